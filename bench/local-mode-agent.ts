// The agent as `npm start` runs it: local mode in a process of its own (embedded DynamoDB and S3,
// stores, caches, the auth API beside the agent), given a kubeconfig whose one context, 'bench',
// is the API server stand-in. A user is added with tctl, as an admin would; its certificate is
// then signed with the local user CA key in the data directory (what tsh login would get, without
// the password and one-time code steps that are no part of the request path).
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { FileSigner } from '../lib/adapters/local/file-signer.js';
import { freePort } from '../lib/adapters/local/free-port.js';
import { newLeafKey } from '../lib/adapters/local/ephemeral-ca.js';
import { systemRandom } from '../lib/adapters/system.js';
import { issueUserCertificate } from '../lib/core/certificate-authority.js';
import type { Identity } from '../lib/core/identity.js';
import type { PemPair } from './ipc.js';
import { exited, processRss, processTreeCpuMicros, profileFlags, stopProcess, track, waitForPort } from './processes.js';

const repoRoot = fileURLToPath(new URL('..', import.meta.url));
const HOUR = 3_600_000;

export interface LocalModeAgent {
  port: number;
  pid: number;
  /** The user's certificate and key; the agent's host CA is not handed out by local mode, so clients skip verifying it. */
  user: PemPair;
  cpuMicros(): number | undefined;
  rss(): number | undefined;
  stop(): Promise<void>;
}

export async function startLocalModeAgent(
  dir: string,
  standIn: { url: string; caPem: string; client: PemPair },
  user: { name: string; groups: string[] },
): Promise<LocalModeAgent> {
  const kubeconfig = join(dir, 'local-mode-kubeconfig.yaml');
  const b64 = (text: string) => Buffer.from(text).toString('base64');
  writeFileSync(
    kubeconfig,
    stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'stand-in', cluster: { server: standIn.url, 'certificate-authority-data': b64(standIn.caPem) } }],
      users: [
        { name: 'agent', user: { 'client-certificate-data': b64(standIn.client.certPem), 'client-key-data': b64(standIn.client.keyPem) } },
      ],
      contexts: [{ name: 'bench', context: { cluster: 'stand-in', user: 'agent' } }],
      'current-context': 'bench',
    }),
    { mode: 0o600 },
  );
  const dataDir = join(dir, 'local-mode-data');
  const agentPort = await freePort();
  const apiPort = await freePort();
  const child: ChildProcess = spawn(
    process.execPath,
    [
      ...profileFlags(),
      join(repoRoot, 'cli/kubeport-local.mjs'),
      '--kubeconfig',
      kubeconfig,
      '--data-dir',
      dataDir,
      '--api-addr',
      `127.0.0.1:${apiPort}`,
      '--agent-addr',
      `127.0.0.1:${agentPort}`,
    ],
    { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  track(child, 'SIGKILL');
  let output = '';
  child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
  try {
    await waitForPort(apiPort, () => exited(child), 60_000, 'npm start (local mode)');
    await waitForPort(agentPort, () => exited(child), 10_000, 'npm start (local mode)');
  } catch (error) {
    await stopProcess(child, 'SIGKILL');
    throw new Error(`${(error as Error).message}; output:\n${output}`);
  }
  const tctl = spawnSync(
    process.execPath,
    [
      join(repoRoot, 'cli/tctl.mjs'),
      `--data-dir=${dataDir}`,
      'users',
      'add',
      user.name,
      '--roles=access',
      `--kubernetes-groups=${user.groups.join(',')}`,
    ],
    { cwd: repoRoot, encoding: 'utf8', timeout: 60_000 },
  );
  if (tctl.status !== 0) throw new Error(`tctl users add failed: ${tctl.stderr || tctl.stdout}`);
  // Issued strictly after the user's creation (its revoked_before), as a login would be.
  await new Promise((resolve) => setTimeout(resolve, 5));
  const { signer } = FileSigner.loadOrCreate(join(dataDir, 'user-ca.key'));
  const userCaPem = (JSON.parse(readFileSync(join(dataDir, 'admin-identity.json'), 'utf8')) as { user_ca: string }).user_ca;
  const key = newLeafKey();
  const clock = { now: () => new Date() };
  const identity: Identity = {
    username: user.name,
    roles: ['access'],
    traits: { kubernetes_groups: user.groups },
    connector: 'local',
    accessRequests: [],
    issuedAt: clock.now().toISOString(),
  };
  const certPem = await issueUserCertificate({ signer, clock, random: systemRandom, certPem: userCaPem }, key.spki, identity, HOUR);
  new X509Certificate(certPem); // fails here, not in the first request, if the signature went wrong
  const pid = child.pid!;
  return {
    port: agentPort,
    pid,
    user: { certPem, keyPem: key.keyPem },
    cpuMicros: () => processTreeCpuMicros(pid),
    rss: () => processRss(pid),
    // Ctrl-C, as a user stops it: local mode closes cleanly (and a CPU profile gets written).
    stop: () => stopProcess(child, 'SIGINT'),
  };
}
