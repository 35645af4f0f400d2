// The answers tsh login needs, checked where they are typed: a new password against the
// server's rule before the code is asked for (so an invite is not spent on a password the server
// will refuse), a code that is exactly six digits. At a terminal a wrong answer is asked again
// (three tries); without one (scripts), the first wrong answer ends tsh with one line.
import { passwordProblem } from '../core/password.js';
import type { Writer } from './commands/deps.js';
import type { Prompt } from './prompt.js';
import { UsageError } from './usage-error.js';

const TRIES = 3;

async function askChecked(prompt: Prompt, stderr: Writer, ask: () => Promise<{ answer: string; problem?: string }>): Promise<string> {
  for (let attempt = 1; ; attempt++) {
    const { answer, problem } = await ask();
    if (!problem) return answer;
    if (!prompt.interactive || attempt >= TRIES) throw new UsageError(problem);
    stderr.write(`${problem}; try again\n`);
  }
}

export function askNewPassword(prompt: Prompt, stderr: Writer): Promise<string> {
  return askChecked(prompt, stderr, async () => {
    const answer = await prompt.ask('Choose a password (at least 12 characters): ', { secret: true });
    const problem = passwordProblem(answer);
    if (problem) return { answer, problem };
    if (prompt.interactive && (await prompt.ask('Repeat the password: ', { secret: true })) !== answer)
      return { answer, problem: 'the passwords differ' };
    return { answer };
  });
}

export function askCode(prompt: Prompt, stderr: Writer): Promise<string> {
  return askChecked(prompt, stderr, async () => {
    const answer = (await prompt.ask('Enter the 6-digit code from your authenticator app: ')).trim().replace(/\s+/g, '');
    return /^\d{6}$/.test(answer) ? { answer } : { answer, problem: `the code must be exactly 6 digits, not ${JSON.stringify(answer)}` };
  });
}
