// Connections toward each cluster's API server. One connect configuration per cluster (TLS
// context built once, server name, verification) serves the keep-alive pools and upgrades alike.
import tls from 'node:tls';
import { Pool } from 'undici';
import { definedOnly } from '../lib/core/objects.js';
import type { UpstreamCluster } from '../lib/core/ports.js';

/**
 * First TCP keepalive probe after this much silence, on both sides of every long stream: a quiet
 * watch or an idle shell then never looks idle to a NAT or load balancer in between (AWS NLB
 * drops flows idle for 350 s). Also how long upstream connections stay pooled between requests.
 */
export const KEEPALIVE_MS = 30_000;

/** Options for tls.connect, https.request and undici's connector alike. */
export interface UpstreamConnect {
  secureContext: tls.SecureContext;
  servername?: string;
  rejectUnauthorized: boolean;
  ALPNProtocols: string[];
}

export interface ClusterConnections {
  connect: UpstreamConnect;
  /** Shared by every user's ordinary requests; each user may hold only part of it. */
  pool: Pool;
  /** Watches, followed logs and streamed bodies get connections of their own, so they cannot starve the pool. */
  streams: Pool;
}

export function upstreamConnect(cluster: UpstreamCluster): UpstreamConnect {
  const secureContext = tls.createSecureContext(definedOnly({ ca: cluster.tls.ca, cert: cluster.tls.cert, key: cluster.tls.key }));
  return definedOnly({
    secureContext,
    servername: cluster.tls.servername,
    rejectUnauthorized: cluster.tls.insecureSkipVerify !== true,
    ALPNProtocols: ['http/1.1'],
  });
}

/**
 * One keep-alive pool per cluster endpoint. undici's pool costs far less CPU per request than
 * node:https; the TLS context is built once per cluster instead of per connection.
 */
export class UpstreamPools {
  private readonly clusters = new Map<string, ClusterConnections>();

  constructor(
    private readonly connectionsPerCluster: number,
    /** A ceiling for the streams pool too: each stream holds its connection, and the per-user cap alone does not bound the sum. */
    private readonly streamConnectionsPerCluster: number,
  ) {}

  forCluster(cluster: UpstreamCluster): ClusterConnections {
    const key = `${cluster.name}|${cluster.server.origin}`;
    let entry = this.clusters.get(key);
    if (!entry) {
      const connect = upstreamConnect(cluster);
      const pool = new Pool(cluster.server.origin, {
        connections: this.connectionsPerCluster,
        keepAliveTimeout: KEEPALIVE_MS,
        headersTimeout: 60_000,
        connect: { ...connect, keepAliveInitialDelay: KEEPALIVE_MS },
      });
      // Long watches and log streams must not be cut by the agent's client side.
      const streams = new Pool(cluster.server.origin, {
        connections: this.streamConnectionsPerCluster,
        keepAliveTimeout: KEEPALIVE_MS,
        headersTimeout: 60_000,
        bodyTimeout: 0,
        // TCP keepalive probes well inside a load balancer's idle timeout (350 s on AWS NLB).
        connect: { ...connect, keepAliveInitialDelay: KEEPALIVE_MS },
      });
      entry = { connect, pool, streams };
      this.clusters.set(key, entry);
    }
    return entry;
  }

  async close(): Promise<void> {
    const pools = [...this.clusters.values()].flatMap((c) => [c.pool.destroy(), c.streams.destroy()]);
    this.clusters.clear();
    await Promise.allSettled(pools);
  }
}

export function upstreamPath(cluster: UpstreamCluster, pathAndQuery: string): string {
  return `${cluster.server.pathname.replace(/\/$/, '')}${pathAndQuery}`;
}
