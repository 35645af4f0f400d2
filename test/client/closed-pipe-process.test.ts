// `tsh status | head -1`: a reader that stops early closes the pipe under tsh and tctl. Their
// output is then done, not failed: no stack on standard error, exit 0, as other CLIs do.
import { describe, expect, it } from 'vitest';
import { cliPath, run } from '../support/cli.js';

/** Runs `cli args | head -n 0` (head closes the pipe before the CLI writes); the CLI's exit status and stderr. */
async function intoClosedPipe(cli: 'tsh' | 'tctl', args: string[]) {
  const script = '"$@" | head -n 0; echo "exit ${PIPESTATUS[0]}"';
  const result = await run('bash', ['-c', script, 'bash', process.execPath, cliPath(cli), ...args]);
  return { status: result.stdout, stderr: result.stderr };
}

describe('tsh and tctl writing into a pipe whose reader has gone', () => {
  it.each([
    ['tsh', ['version']],
    ['tsh', ['--help']],
    ['tctl', ['version']],
  ] as const)('%s %s ends quietly with 0', async (cli, args) => {
    const { status, stderr } = await intoClosedPipe(cli, [...args]);
    expect(stderr).toBe('');
    expect(status).toBe('exit 0\n');
  });
});
