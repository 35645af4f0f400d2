// npm start --demo: the Kubernetes API stand-in (lib/demo) served as two labelled clusters,
// demo-dev and demo-prod (lib/demo/demo-clusters.ts), so Kubeport can be tried on a machine
// without any cluster. They answer discovery, namespaces, pods, events, logs, exec and whoami,
// and honour impersonation from Kubeport's agent only. They run in a child process: whatever a
// client sends them, a crash there cannot end Kubeport.
import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { KubeportError } from '../lib/core/errors.js';
import { type DemoReady, isDemoReady } from '../lib/demo/demo-ready.js';

const launcher = fileURLToPath(new URL('../cli/run-ts.mjs', import.meta.url));
const entry = fileURLToPath(new URL('../lib/demo/main.ts', import.meta.url));
const START_TIMEOUT_MS = 60_000;

export interface DemoCluster {
  /** A context per demo cluster, named as the cluster. */
  kubeconfig: string;
  /** Each cluster's name, URL and the labels it is registered with. */
  clusters: DemoReady['clusters'];
  /** The demo GitHub's URL, connector file and password. */
  github: DemoReady['github'];
  /** The demo cluster's process id. */
  pid: number;
  close(): Promise<void>;
}

export async function startDemoCluster(
  dataDir: string,
  // Tests that only need the clusters leave these out: the demo GitHub then takes any free port.
  options: { githubAddr: { host: string; port: number }; apiUrl: string } = {
    githubAddr: { host: '127.0.0.1', port: 0 },
    apiUrl: 'http://127.0.0.1:3080',
  },
): Promise<DemoCluster> {
  const githubAddr = `${options.githubAddr.host}:${options.githubAddr.port}`;
  // No inherited execArgv: an --inspect of npm start would make the child fail on the same port.
  const child = fork(launcher, [entry, dataDir, githubAddr, options.apiUrl], {
    execArgv: [],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let closing = false;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const ready = await waitForReady(child);
  // A failed kill or IPC send is reported as an 'error' event; unheard, it would end Kubeport.
  child.on('error', (error) => process.stderr.write(`kubeport: demo cluster process: ${error.message}\n`));
  child.once('exit', (code, signal) => {
    if (closing) return;
    process.stderr.write(
      `kubeport: the demo clusters stopped (${signal ?? `exit code ${code}`}); kubectl cannot reach ${ready.clusters.map((c) => c.name).join(' or ')} until npm start -- --demo starts again\n`,
    );
  });
  return {
    kubeconfig: ready.kubeconfig,
    clusters: ready.clusters,
    github: ready.github,
    pid: child.pid!,
    close: async () => {
      closing = true;
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

function waitForReady(child: ChildProcess): Promise<DemoReady> {
  return new Promise((resolve, reject) => {
    const done = () => {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
      child.off('error', onError);
    };
    const fail = (message: string, cause?: unknown) => {
      done();
      child.kill('SIGKILL');
      reject(new KubeportError('internal', message, { cause }));
    };
    const onMessage = (message: unknown) => {
      if (!isDemoReady(message)) return;
      done();
      resolve(message);
    };
    const onExit = (code: number | null, signal: NodeJS.Signals | null) =>
      fail(`the demo (clusters and GitHub) could not start (${signal ?? `exit code ${code}`}); the cause is above`);
    const onError = (error: Error) => fail(`could not start the demo cluster: ${error.message}`, error);
    const timer = setTimeout(() => fail(`the demo cluster did not start within ${START_TIMEOUT_MS / 1000} s`), START_TIMEOUT_MS);
    child.on('message', onMessage);
    child.once('exit', onExit);
    child.once('error', onError);
  });
}
