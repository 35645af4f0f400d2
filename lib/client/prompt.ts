// Asks the user for input. At a terminal, secrets are not echoed. Without one (scripts, tests),
// each prompt still goes to standard error and each answer is one line of standard input.
import { createInterface } from 'node:readline';

let pipedLines: AsyncIterator<string> | undefined;

async function nextPipedLine(question: string): Promise<string> {
  process.stderr.write(question);
  pipedLines ??= createInterface({ input: process.stdin, terminal: false })[Symbol.asyncIterator]();
  const next = await pipedLines.next();
  if (next.done) throw new Error(`standard input ended before an answer to "${question.trim()}"`);
  return next.value;
}

export async function ask(question: string, options: { secret?: boolean } = {}): Promise<string> {
  if (!process.stdin.isTTY) return nextPipedLine(question);
  return new Promise((resolve, reject) => {
    const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
    if (options.secret) {
      // Echo nothing of what is typed after the question.
      const internal = rl as unknown as { _writeToOutput: (text: string) => void };
      internal._writeToOutput = (text: string) => {
        if (text.includes(question)) process.stderr.write(text);
      };
    }
    rl.question(question, (answer) => {
      rl.close();
      if (options.secret) process.stderr.write('\n');
      resolve(answer);
    });
    rl.on('SIGINT', () => {
      rl.close();
      reject(new Error('interrupted'));
    });
  });
}

export function isInteractive(): boolean {
  return Boolean(process.stdin.isTTY);
}
