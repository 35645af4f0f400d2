// Starts `npm start` (local mode) as its own process, the way a user runs it.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { cliPath, node, repoRoot, tshEnroll, waitForOutput } from './cli.js';
import { freePort } from '../../lib/adapters/local/free-port.js';

export interface LocalModeProcess {
  child: ChildProcess;
  proxy: string;
  agent: string;
  output: () => string;
  stop(): Promise<number | null>;
}

export async function startLocalModeProcess(options: {
  dataDir: string;
  kubeconfig?: string;
  extraArgs?: string[];
  env?: NodeJS.ProcessEnv;
  /** The addresses of an earlier run, so a restarted process is found where its users' profiles point. */
  addresses?: { proxy: string; agent: string };
}): Promise<LocalModeProcess> {
  const proxy = options.addresses?.proxy ?? `127.0.0.1:${await freePort()}`;
  const extraArgs = [...(options.extraArgs ?? [])];
  // The demo GitHub's default port is fixed; test files running side by side each take a free one.
  if (extraArgs.includes('--demo') && !extraArgs.includes('--demo-github-addr')) {
    extraArgs.push('--demo-github-addr', `127.0.0.1:${await freePort()}`);
  }
  const agent = options.addresses?.agent ?? `127.0.0.1:${await freePort()}`;
  const child = spawn(
    process.execPath,
    [
      cliPath('kubeport-local'),
      ...(options.kubeconfig ? ['--kubeconfig', options.kubeconfig] : []),
      '--data-dir',
      options.dataDir,
      '--api-addr',
      proxy,
      '--agent-addr',
      agent,
      ...extraArgs,
    ],
    { cwd: repoRoot, env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
  await waitForOutput(child, /is running in local mode/);
  return {
    child,
    proxy,
    agent,
    output: () => output,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve(child.exitCode);
        child.once('exit', (code) => resolve(code));
        child.kill('SIGINT');
      }),
  };
}

/** The environment of a user's own shell for tsh and kubectl: its home, tsh profile, kubeconfig and cache under `dir`. */
export function userShellEnv(dir: string): NodeJS.ProcessEnv {
  mkdirSync(join(dir, 'home'), { recursive: true });
  return {
    ...process.env,
    HOME: join(dir, 'home'),
    TSH_HOME: join(dir, 'home', '.tsh'),
    KUBECONFIG: join(dir, 'home', '.kube', 'config'),
    KUBECACHEDIR: join(dir, 'cache'),
  };
}

/** tctl users add NAME (access, system:masters), then tsh login with its invite: kubectl works for NAME. */
export async function addKubeUser(local: LocalModeProcess, dataDir: string, env: NodeJS.ProcessEnv, name: string): Promise<void> {
  const added = await node(cliPath('tctl'), [
    `--data-dir=${dataDir}`,
    'users',
    'add',
    name,
    '--roles=access',
    '--kubernetes-groups=system:masters',
  ]);
  const invite = /--invite=(\S+)/.exec(added.stdout)?.[1];
  if (!invite) throw new Error(`tctl users add printed no invite: ${added.stdout}${added.stderr}`);
  const login = await tshEnroll(env, local.proxy, name, invite, 'correct horse battery staple');
  if (login.code !== 0) throw new Error(`tsh login failed: ${login.stderr}`);
}
