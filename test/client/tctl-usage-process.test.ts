// What a person sees after a usage mistake, from the real tctl and tsh processes: the one line
// that went wrong, the command's usage line and where the rest is, never the whole help.
import { describe, expect, it } from 'vitest';
import { cliPath, node } from '../support/cli.js';

describe('usage errors of tctl and tsh', () => {
  it('tctl users add without --roles prints the problem and the short usage of users add', async () => {
    const result = await node(cliPath('tctl'), ['users', 'add', 'alice']);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      "error: required option '--roles <roles>' not specified\nUsage: tctl users add [options] <name>\nRun 'tctl users add --help' for more.\n",
    );
  });

  it('an unknown tctl command and a missing argument show the usage of the command that failed', async () => {
    const unknown = await node(cliPath('tctl'), ['user', 'ls']);
    expect(unknown.stderr).toBe(
      "error: unknown command 'user'\n(Did you mean users?)\nUsage: tctl [options] [command]\nRun 'tctl --help' for more.\n",
    );
    const missing = await node(cliPath('tctl'), ['users', 'unlock']);
    expect(missing.stderr).toBe(
      "error: missing required argument 'name'\nUsage: tctl users unlock [options] <name>\nRun 'tctl users unlock --help' for more.\n",
    );
  });

  it('tsh does the same', async () => {
    const result = await node(cliPath('tsh'), ['kube', 'login', '--nope']);
    expect(result.code).toBe(1);
    // The cluster argument may be optional or not; the shape of the message is what counts.
    expect(result.stderr).toMatch(
      /^error: unknown option '--nope'\nUsage: tsh kube login \[options\] [<[]cluster[>\]]\nRun 'tsh kube login --help' for more\.\n$/,
    );
  });

  it('tctl version prints its version without a server', async () => {
    const result = await node(cliPath('tctl'), ['version']);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(result.stdout).toMatch(/^Kubeport tctl v\d+\.\d+\.\d+ node v\d+/);
  });
});
