// npx puts this package's bin on PATH for one run (under its _npx cache); a hint or a kubeconfig
// that says plain `tsh` then names a command that is gone in the user's next shell.
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliCommand, execPluginCommand, launcherPath } from '../../lib/client/command-hint.js';
import { repoRoot } from '../support/cli.js';

let dir: string;
const binWith = (folder: string) => {
  const bin = join(dir, folder);
  mkdirSync(bin, { recursive: true });
  symlinkSync(launcherPath('tsh'), join(bin, 'tsh'));
  return bin;
};

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'command-hint-'));
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('how Kubeport names tsh', () => {
  it.each([
    ['npx', join('.npm', '_npx', '8f8d135c3641f302', 'node_modules', '.bin')],
    ['npm run', join('project', 'node_modules', '.bin')],
  ])('does not take the tsh that %s puts on PATH for one run as installed', (_, folder) => {
    const env = { PATH: `${binWith(folder)}:/usr/bin:/bin` };
    expect(cliCommand('tsh', env, repoRoot)).toBe('npx tsh');
    expect(execPluginCommand(env, '/usr/bin/node')).toEqual({ command: '/usr/bin/node', args: [launcherPath('tsh')] });
  });

  it('names plain tsh, also in the kubeconfig, when an installed tsh is this package', () => {
    const env = { PATH: `${binWith(join('prefix', 'bin'))}:/usr/bin:/bin` };
    expect(cliCommand('tsh', env, '/')).toBe('tsh');
    expect(execPluginCommand(env, '/usr/bin/node')).toEqual({ command: 'tsh', args: [] });
  });
});
