// tsh login with an invite at a real terminal (a pseudo-terminal from script(1)): a password the
// server would refuse and a code that is not six digits are refused at the prompt and asked again,
// before the invite is spent; then the enrollment completes.
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliPath, codeFor, repoRoot, secretFromOtpauth } from '../support/cli.js';
import { type ClientHarness, startClientHarness } from './client-harness.js';

const PASSWORD = 'correct horse battery staple';

describe('tsh login enrollment at a terminal', () => {
  let harness: ClientHarness;
  beforeAll(async () => {
    harness = await startClientHarness();
  });
  afterAll(() => harness?.close());

  it('asks again for a short password and a 5-digit code, then enrolls', async () => {
    const invite = await harness.addUser('carol', { roles: ['access'] });
    const home = mkdtempSync(join(tmpdir(), 'kubeport-tty-'));
    const env = { ...process.env, HOME: home, TSH_HOME: join(home, '.tsh'), KUBECONFIG: join(home, '.kube', 'config') };
    const command = [process.execPath, cliPath('tsh'), 'login', `--proxy=${harness.proxy}`, '--user=carol', `--invite=${invite}`].join(' ');
    const child = spawn('script', ['-qfec', command, '/dev/null'], { cwd: repoRoot, env, stdio: ['pipe', 'pipe', 'pipe'] });
    let screen = '';
    const waiters: { pattern: RegExp; from: number; resolve: () => void }[] = [];
    const onData = (chunk: Buffer) => {
      screen += chunk.toString();
      for (const w of [...waiters])
        if (w.pattern.test(screen.slice(w.from))) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve();
        }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    // Waits for `pattern` in what the terminal shows after the last answer, then types `answer`.
    let mark = 0;
    const answer = async (pattern: RegExp, text: string) => {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no ${pattern} on the terminal:\n${screen}`)), 20_000);
        waiters.push({ pattern, from: mark, resolve: () => (clearTimeout(timer), resolve()) });
        onData(Buffer.alloc(0));
      });
      mark = screen.length;
      child.stdin.write(`${text}\r`);
    };
    try {
      await answer(/Choose a password/, 'too short');
      await answer(/password must have at least 12 characters; try again\r?\n.*Choose a password/s, PASSWORD);
      await answer(/Repeat the password/, PASSWORD);
      await answer(/6-digit code/, '12345');
      const secret = secretFromOtpauth(screen)!;
      await answer(
        /the code must be exactly 6 digits, not "12345"; try again\r?\n.*6-digit code/s,
        codeFor(secret, 0, harness.clock.now()),
      );
      expect(await exited).toBe(0);
    } finally {
      child.kill();
    }
    expect(screen).toContain('Logged in as:       carol');
    // The secret was never echoed.
    expect(screen).not.toContain(PASSWORD);
  });
});
