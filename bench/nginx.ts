// nginx as the yardstick of a plain proxy: started from a config in a temporary directory, bound to
// 127.0.0.1, in front of the API server stand-in exactly as the agent is:
//   - worker_processes 1 (one worker, as the agent is one Node process; BENCH_NGINX_WORKERS
//     overrides, e.g. 'auto'),
//   - client certificates required and checked against the Kubeport user CA (the agent does the
//     same), the same host certificate as the agent,
//   - an upstream keep-alive pool (`keepalive` needs an upstream block, so proxy_pass names the
//     block that holds 127.0.0.1:<stand-in port>), proxy_http_version 1.1,
//   - upgrades passed on (Upgrade and Connection: upgrade when the client asked for one, an empty
//     Connection otherwise so the pool keeps its connections), which carries exec, attach and
//     port-forward over WebSocket and SPDY alike,
//   - no response buffering, so watches and exec output flow as they arrive (the agent does not
//     buffer either), and long read timeouts for idle streams,
//   - proxy_ssl_verify on against the stand-in CA (the agent verifies its upstream too), and the
//     stand-in's 'kubeport-agent' client certificate.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '../lib/adapters/local/free-port.js';
import type { PemPair } from './ipc.js';
import { exited, processTreeCpuMicros, processRss, stopProcess, track, waitForPort } from './processes.js';

export const NGINX_WORKERS = process.env.BENCH_NGINX_WORKERS ?? '1';

export interface Nginx {
  port: number;
  version: string;
  pid: number;
  /** CPU time used by the master and its workers so far, in µs; undefined without /proc. */
  cpuMicros(): number | undefined;
  /** RSS of the master and its workers together, in bytes. */
  rss(): number | undefined;
  stop(): Promise<void>;
}

export interface NginxPems {
  server: PemPair;
  userCaPem: string;
  upstreamCaPem: string;
  upstreamClient: PemPair;
  upstreamPort: number;
}

function findNginx(): string | undefined {
  for (const candidate of ['nginx', '/usr/sbin/nginx']) {
    const probe = spawnSync(candidate, ['-v'], { stdio: 'ignore' });
    if (!probe.error && probe.status === 0) return candidate;
  }
  return undefined;
}

/** The nginx binary, installed with apt-get when missing; undefined when that fails (the nginx rows are then skipped). */
export function ensureNginx(): string | undefined {
  const found = findNginx();
  if (found) return found;
  const command = 'apt-get update -qq && apt-get install -y -qq nginx-light';
  console.log(`nginx is not installed; installing it: ${command}`);
  const install = spawnSync('sh', ['-c', command], {
    stdio: ['ignore', 'inherit', 'inherit'],
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    timeout: 300_000,
  });
  const installed = !install.error && install.status === 0 ? findNginx() : undefined;
  if (!installed) {
    const why =
      install.error?.message ?? (install.status !== 0 ? `exit status ${install.status ?? install.signal}` : 'nginx still not found');
    console.log(`nginx: could not install nginx-light (${why}); the nginx rows are skipped`);
  }
  return installed;
}

/** Starts nginx in `dir` (a private temp directory), proxying to the stand-in; `maxConnections` sizes worker_connections. */
export async function startNginx(
  bin: string,
  dir: string,
  pems: NginxPems,
  maxConnections = 1024,
  options: { http2?: boolean } = {},
): Promise<Nginx> {
  const file = (name: string, content: string) => {
    const path = join(dir, name);
    writeFileSync(path, content, { mode: 0o600 });
    return path;
  };
  // Workers run as an unprivileged user when nginx starts as root: they must be able to reach the
  // temp directories nginx makes (and chowns) in here. Keys stay 0600; the master reads them.
  chmodSync(dir, 0o711);
  const built = spawnSync(bin, ['-V'], { encoding: 'utf8' });
  const version = /nginx version: (\S+)/.exec(built.stderr ?? '')?.[1] ?? 'nginx';
  // Every temp path compiled into this build is moved into the temp directory, so nothing outside it is touched.
  const tempPaths = [...(built.stderr ?? '').matchAll(/--http-(client-body|proxy|fastcgi|uwsgi|scgi)-temp-path=/g)].map((m) => {
    const kind = m[1]!;
    const directive = kind === 'client-body' ? 'client_body_temp_path' : `${kind}_temp_path`;
    return `  ${directive} ${join(dir, `${kind}-temp`)};`;
  });
  const port = await freePort();
  // Each proxied stream holds two connections (client and upstream).
  const workerConnections = Math.max(1024, 2 * maxConnections + 64);
  const conf = file(
    'nginx.conf',
    `worker_processes ${NGINX_WORKERS};
worker_rlimit_nofile ${workerConnections + 64};
pid ${join(dir, 'nginx.pid')};
error_log ${join(dir, 'error.log')} warn;
events { worker_connections ${workerConnections}; }
http {
  access_log off;
${tempPaths.join('\n')}
  map $http_upgrade $connection_upgrade {
    default upgrade;
    '' '';
  }
  upstream stand_in {
    server 127.0.0.1:${pems.upstreamPort};
    keepalive 64;
    keepalive_requests 1000000;
  }
  server {
    listen 127.0.0.1:${port} ssl${options.http2 ? ' http2' : ''} backlog=4096;
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_certificate ${file('server.crt', pems.server.certPem)};
    ssl_certificate_key ${file('server.key', pems.server.keyPem)};
    ssl_client_certificate ${file('user-ca.crt', pems.userCaPem)};
    ssl_verify_client on;
    keepalive_requests 1000000;
    keepalive_timeout 120s;
    location / {
      proxy_pass https://stand_in;
      proxy_http_version 1.1;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection $connection_upgrade;
      proxy_buffering off;
      proxy_request_buffering off;
      proxy_read_timeout 3600s;
      proxy_send_timeout 3600s;
      proxy_ssl_protocols TLSv1.2 TLSv1.3;
      proxy_ssl_certificate ${file('upstream-client.crt', pems.upstreamClient.certPem)};
      proxy_ssl_certificate_key ${file('upstream-client.key', pems.upstreamClient.keyPem)};
      proxy_ssl_trusted_certificate ${file('stand-in-ca.crt', pems.upstreamCaPem)};
      proxy_ssl_verify on;
      proxy_ssl_name kubernetes;
      proxy_ssl_session_reuse on;
    }
  }
}
`,
  );
  const child: ChildProcess = spawn(bin, ['-p', `${dir}/`, '-e', join(dir, 'error.log'), '-c', conf, '-g', 'daemon off;'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  track(child, 'SIGTERM');
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const errorLog = () => {
    try {
      return readFileSync(join(dir, 'error.log'), 'utf8');
    } catch {
      return '';
    }
  };
  try {
    await waitForPort(port, () => exited(child), 5_000, 'nginx');
  } catch (error) {
    await stopProcess(child, 'SIGTERM');
    const detail = `${stderr}${errorLog()}`.trim().split('\n').slice(-3).join(' | ');
    throw new Error(`${(error as Error).message}${detail ? `: ${detail}` : ''}`);
  }
  const pid = child.pid!;
  const workers = () => {
    const total = [pid, ...childPids(pid)].map(processRss);
    return total.every((r) => r !== undefined) ? total.reduce((a, b) => a! + b!, 0) : undefined;
  };
  return { port, version, pid, cpuMicros: () => processTreeCpuMicros(pid), rss: workers, stop: () => stopProcess(child, 'SIGTERM') };
}

function childPids(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}
