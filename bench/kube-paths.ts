// The three paths every stream figure is measured on, set up once per run:
//
//   direct  client → API server stand-in (the 'kubeport-agent' certificate, impersonating the
//           bench user as the agent would)
//   agent   client → Kubeport agent (mTLS with a Kubeport user certificate) → stand-in
//   nginx   client → nginx (TLS termination, upgrades passed on) → stand-in, as a plain proxy
//
// Each path is offered two ways: what a raw client needs (port, path prefix, TLS, headers) and a
// kubeconfig file for the real kubectl (--as/--as-group stand in for the agent's impersonation on
// the direct and nginx paths, as kubectl flags in front of every command).
import type { ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { createEphemeralCa, newLeafKey } from '../lib/adapters/local/ephemeral-ca.js';
import { issueHostCertificate, issueUserCertificate } from '../lib/core/certificate-authority.js';
import type { Identity } from '../lib/core/identity.js';
import type { KubeApiServerOptions } from '../lib/demo/types.js';
import { startAgentChild } from './agent-child.js';
import { type AgentStart, type StandInReady, nextMessage, usageOf } from './ipc.js';
import { type Nginx, type NginxPems, ensureNginx, startNginx } from './nginx.js';
import { startChild, stopProcess } from './processes.js';

export const CLUSTER = 'bench';
export const USER = 'bench-user';
export const GROUPS = ['devs'];
const HOUR = 3_600_000;

export type PathName = 'direct' | 'agent' | 'nginx';

export interface KubePath {
  name: PathName;
  port: number;
  /** What goes before /api/... on this path ('/k8s/bench' on the agent). */
  prefix: string;
  tls: { ca: string; cert: string; key: string };
  /** Impersonation the agent would add; sent by raw clients on the direct and nginx paths. */
  headers: Record<string, string | string[]>;
  kubeconfig: string;
  /** kubectl flags that go with the kubeconfig (impersonation on direct and nginx). */
  kubectlFlags: string[];
  /** CPU time (µs) the process(es) behind this path used so far. */
  cpuMicros(): Promise<number | undefined>;
  /** RSS (bytes) of the proxy on this path (the stand-in on direct). */
  rss(): Promise<number | undefined>;
  /** For Node processes: JS heap in use and memory outside it (OpenSSL, buffers), in bytes. */
  heap?(): Promise<{ heapUsed: number; external: number }>;
}

export interface KubePaths {
  paths: KubePath[];
  /** A second agent, recording interactive sessions, when `recordings` was given (not among `paths`). */
  recordingAgent?: KubePath;
  /** What an nginx in front of the stand-in needs, for benches that start one of their own. */
  nginxPems: NginxPems;
  nginxBin?: string;
  nginxVersion?: string;
  stop(): Promise<void>;
}

/**
 * The CAs and certificates every bench path uses: a user certificate for USER (role access,
 * groups GROUPS) and the agent's server certificate for localhost, each valid for an hour.
 */
export async function benchCertificates() {
  const userCa = await createEphemeralCa('bench user CA', { validityMs: HOUR });
  const hostCa = await createEphemeralCa('bench host CA', { validityMs: HOUR });
  const userKey = newLeafKey();
  const identity: Identity = {
    username: USER,
    roles: ['access'],
    traits: { kubernetes_groups: GROUPS },
    connector: 'local',
    accessRequests: [],
    issuedAt: userCa.clock.now().toISOString(),
  };
  const userCert = await issueUserCertificate(userCa, userKey.spki, identity, HOUR);
  const hostKey = newLeafKey();
  const hostCert = await issueHostCertificate(hostCa, hostKey.spki, { dns: ['localhost'], ips: ['127.0.0.1'] }, HOUR);
  return { userCa, hostCa, userKey, userCert, hostTls: { certPem: hostCert, keyPem: hostKey.keyPem } };
}

export async function startKubePaths(
  dir: string,
  options: {
    standIn?: KubeApiServerOptions;
    agentLimits?: Record<string, number>;
    nginxMaxConnections?: number;
    recordings?: AgentStart['recordings'];
  },
): Promise<KubePaths> {
  const standIn = startChild('./stand-in-process.ts', options.standIn ? [JSON.stringify(options.standIn)] : []);
  let agent: ChildProcess | undefined;
  let recordingAgent: ChildProcess | undefined;
  let nginx: Nginx | undefined;
  const stop = async () => {
    await Promise.all([
      nginx?.stop(),
      agent ? stopProcess(agent, 'ipc') : undefined,
      recordingAgent ? stopProcess(recordingAgent, 'ipc') : undefined,
      stopProcess(standIn, 'ipc'),
    ]);
  };
  try {
    const upstream = await nextMessage<StandInReady>(standIn, 'ready', 30_000);
    const { userCa, hostCa, userKey, userCert, hostTls } = await benchCertificates();

    const startAgent = (recordings?: AgentStart['recordings']) =>
      startAgentChild(
        {
          tls: hostTls,
          userCaPem: userCa.certPem,
          upstream: { url: upstream.url, caPem: upstream.caPem, client: upstream.agentClient },
          ...(options.agentLimits ? { limits: options.agentLimits } : {}),
          ...(recordings ? { recordings } : {}),
        },
        (child) => (recordings ? (recordingAgent = child) : (agent = child)),
      );
    const { child: agentProcess, port: agentPort } = await startAgent();

    const nginxBin = ensureNginx();
    const pems = {
      server: hostTls,
      userCaPem: userCa.certPem,
      upstreamCaPem: upstream.caPem,
      upstreamClient: upstream.agentClient,
      upstreamPort: upstream.port,
    };
    if (nginxBin) {
      try {
        nginx = await startNginx(nginxBin, dir, pems, options.nginxMaxConnections);
      } catch (error) {
        console.log(`nginx: ${error instanceof Error ? error.message : String(error)}; the nginx rows are skipped`);
      }
    }

    const impersonation = { 'Impersonate-User': USER, 'Impersonate-Group': [...GROUPS, 'system:authenticated'] };
    const asFlags = [`--as=${USER}`, ...GROUPS.map((g) => `--as-group=${g}`), '--as-group=system:authenticated'];
    const asUser = { ca: hostCa.certPem, cert: userCert, key: userKey.keyPem };
    const asAgent = { ca: upstream.caPem, cert: upstream.agentClient.certPem, key: upstream.agentClient.keyPem };
    const paths: KubePath[] = [
      {
        name: 'direct',
        port: upstream.port,
        prefix: '',
        tls: asAgent,
        headers: impersonation,
        kubeconfig: writeKubeconfig(dir, 'direct', `https://127.0.0.1:${upstream.port}`, asAgent),
        kubectlFlags: asFlags,
        cpuMicros: async () => (await usageOf(standIn)).cpuMicros,
        rss: async () => (await usageOf(standIn)).rss,
        heap: async () => usageOf(standIn),
      },
      agentPath(dir, 'agent', agentProcess, agentPort, asUser),
    ];
    let recorded: KubePath | undefined;
    if (options.recordings) {
      const second = await startAgent(options.recordings);
      recorded = agentPath(dir, 'agent-recording', second.child, second.port, asUser);
    }
    const proxy = nginx;
    if (proxy) {
      paths.push({
        name: 'nginx',
        port: proxy.port,
        prefix: '',
        tls: asUser,
        headers: impersonation,
        kubeconfig: writeKubeconfig(dir, 'nginx', `https://127.0.0.1:${proxy.port}`, asUser),
        kubectlFlags: asFlags,
        cpuMicros: async () => proxy.cpuMicros(),
        rss: async () => proxy.rss(),
      });
    }
    return {
      paths,
      ...(recorded ? { recordingAgent: recorded } : {}),
      nginxPems: pems,
      ...(nginxBin ? { nginxBin } : {}),
      ...(nginx ? { nginxVersion: nginx.version } : {}),
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** The agent path to an agent child listening on `port`; `file` names its kubeconfig. */
function agentPath(dir: string, file: string, child: ChildProcess, port: number, asUser: KubePath['tls']): KubePath {
  return {
    name: 'agent',
    port,
    prefix: `/k8s/${CLUSTER}`,
    tls: asUser,
    headers: {},
    kubeconfig: writeKubeconfig(dir, file, `https://127.0.0.1:${port}/k8s/${CLUSTER}`, asUser),
    kubectlFlags: [],
    cpuMicros: async () => (await usageOf(child)).cpuMicros,
    rss: async () => (await usageOf(child)).rss,
    heap: async () => usageOf(child),
  };
}

export function writeKubeconfig(dir: string, name: string, server: string, tls: { ca: string; cert: string; key: string }): string {
  const b64 = (text: string) => Buffer.from(text).toString('base64');
  const path = join(dir, `kubeconfig-${name}.yaml`);
  writeFileSync(
    path,
    stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name, cluster: { server, 'certificate-authority-data': b64(tls.ca) } }],
      users: [{ name, user: { 'client-certificate-data': b64(tls.cert), 'client-key-data': b64(tls.key) } }],
      contexts: [{ name, context: { cluster: name, user: name, namespace: 'default' } }],
      'current-context': name,
    }),
    { mode: 0o600 },
  );
  return path;
}
