// Idle streams outlive every timeout of the agent: with the header, keep-alive and idle timeouts
// all cut to half a second, a quiet exec, watch and followed log stay open many times that long
// (and the exec still carries data), while an idle kept-alive connection is closed, which shows
// the timeouts are in force. Their sockets, toward the client and toward the API server, send
// TCP keepalive probes after 30 s of silence, inside a load balancer's 350 s idle timeout.
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AgentHarness, rawUpgrade, startAgentHarness } from '../support/agent-harness.js';
import { afterHead, serverFrames } from '../support/wire-reading.js';

const CAT = '/k8s/dev/api/v1/namespaces/default/pods/web-0/exec?command=cat&stdin=true&stdout=true';
const WATCH = '/k8s/dev/api/v1/namespaces/default/pods?watch=true';
const FOLLOW = '/k8s/dev/api/v1/namespaces/default/pods/web-0/log?follow=true';
const get = (path: string) => `GET ${path} HTTP/1.1\r\nHost: localhost\r\n\r\n`;
const TIMEOUT_MS = 500;

/** A masked client frame on channel 0 (stdin), as kubectl sends it. */
function stdinFrame(text: string): Buffer {
  const payload = Buffer.concat([Buffer.from([0]), Buffer.from(text)]);
  const mask = Buffer.from([1, 2, 3, 4]);
  return Buffer.concat([Buffer.from([0x82, 0x80 | payload.length]), mask, payload.map((b, i) => b ^ mask[i % 4]!)]);
}

/** Keepalive timers (seconds left) of established TCP connections with `port` on either end, from ss. */
function keepaliveTimers(port: number): number[] {
  const out = execFileSync('ss', ['-tnoH', 'state', 'established', `( sport = :${port} or dport = :${port} )`]).toString();
  return [...out.matchAll(/timer:\(keepalive,(?:(\d+)min)?([\d.]+)(m?s)/g)].map(
    (m) => Number(m[1] ?? 0) * 60 + Number(m[2]) / (m[3] === 'ms' ? 1000 : 1),
  );
}

describe('idle streams and the agent timeouts', () => {
  let h: AgentHarness;
  beforeAll(async () => {
    // Quiet streams: the stand-in's first event or log line would come only after a minute.
    h = await startAgentHarness({
      kube: { streams: { intervalMs: 60_000, durationMs: Infinity } },
      limits: { idleTimeoutMs: TIMEOUT_MS, headersTimeoutMs: TIMEOUT_MS, keepAliveTimeoutMs: TIMEOUT_MS },
    });
  });
  afterAll(() => h.close());

  it('keep a quiet exec, watch and followed log open far past every timeout, with TCP keepalive on both sides', async () => {
    const fay = await h.issue({ username: 'fay' });
    const exec = h.open(rawUpgrade(CAT), fay);
    const watch = h.open(get(WATCH), fay);
    const follow = h.open(get(FOLLOW), fay);
    const idle = h.open(get('/k8s/dev/api/v1/namespaces/default/pods/web-0'), fay);
    try {
      await expect.poll(() => exec.received(), { timeout: 5_000 }).toMatch(/^HTTP\/1\.1 101 /);
      await expect.poll(() => watch.received(), { timeout: 5_000 }).toMatch(/^HTTP\/1\.1 200 /);
      await expect.poll(() => follow.received(), { timeout: 5_000 }).toMatch(/^HTTP\/1\.1 200 /);
      // The timeouts are in force: a connection with nothing to do is closed.
      await idle.closed;

      await new Promise((resolve) => setTimeout(resolve, 8 * TIMEOUT_MS));
      for (const stream of [exec, watch, follow]) expect(stream.socket.destroyed).toBe(false);
      exec.socket.write(stdinFrame('still alive\n'));
      await expect
        .poll(() => serverFrames(afterHead(exec.received())).map((f) => f.payload.toString()), { timeout: 5_000 })
        .toContain('\u0001still alive\n');

      // Client side: the agent's end of each of the three connections; upstream side: the exec's
      // own connection and the watch's and log's pooled ones (and the pool's for the plain
      // request). Each probes within 30 s; the test's own sockets and the stand-in's set none.
      const clientSide = keepaliveTimers(h.port);
      const upstreamSide = keepaliveTimers(Number(new URL(h.kube.url).port));
      expect(clientSide.length).toBeGreaterThanOrEqual(3);
      expect(upstreamSide.length).toBeGreaterThanOrEqual(3);
      for (const seconds of [...clientSide, ...upstreamSide]) expect(seconds).toBeLessThanOrEqual(30);
    } finally {
      for (const stream of [exec, watch, follow, idle]) stream.socket.destroy();
    }
  });
});
