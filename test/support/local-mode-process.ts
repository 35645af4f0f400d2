// Starts `npm start` (local mode) as its own process, the way a user runs it.
import { type ChildProcess, spawn } from 'node:child_process';
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
}): Promise<LocalModeProcess> {
  const apiPort = await freePort();
  const agentPort = await freePort();
  const proxy = `127.0.0.1:${apiPort}`;
  const extraArgs = [...(options.extraArgs ?? [])];
  // The demo GitHub's default port is fixed; test files running side by side each take a free one.
  if (extraArgs.includes('--demo') && !extraArgs.includes('--demo-github-addr')) {
    extraArgs.push('--demo-github-addr', `127.0.0.1:${await freePort()}`);
  }
  const agent = `127.0.0.1:${agentPort}`;
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

/** tctl users add `user` (role access, group system:masters) in `dataDir`, then tsh login with its invite as `env`. */
export async function addAndEnroll(local: LocalModeProcess, dataDir: string, env: NodeJS.ProcessEnv, user: string) {
  const added = await node(cliPath('tctl'), [
    `--data-dir=${dataDir}`,
    'users',
    'add',
    user,
    '--roles=access',
    '--kubernetes-groups=system:masters',
  ]);
  const invite = /--invite=(\S+)/.exec(added.stdout)?.[1];
  if (!invite) throw new Error(`tctl users add ${user} gave no invite: ${added.stdout}${added.stderr}`);
  return tshEnroll(env, local.proxy, user, invite, 'correct horse battery staple');
}
