// A stream the agent ends tells the user why, in the words the protocol has for it: exec gets a
// Status on the error channel then Close 1000 (kubectl prints the message), a watch gets an ERROR
// event then the body's proper end (kubectl get -w prints it), a followed log ends cleanly.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AgentHarness, type ClientCredentials, rawUpgrade, startAgentHarness } from '../support/agent-harness.js';
import { afterHead, dechunk, serverFrames } from '../support/wire-reading.js';

const CAT = '/k8s/dev/api/v1/namespaces/default/pods/web-0/exec?command=cat&stdin=true&stdout=true';
const WATCH = '/k8s/dev/api/v1/namespaces/default/pods?watch=true';
const FOLLOW = '/k8s/dev/api/v1/namespaces/default/pods/web-0/log?follow=true';
const get = (path: string) => `GET ${path} HTTP/1.1\r\nHost: localhost\r\n\r\n`;

describe('streams the agent ends', () => {
  let h: AgentHarness;
  beforeAll(async () => {
    // Streams that run until the client leaves, as the demo cluster's do.
    h = await startAgentHarness({ kube: { streams: { intervalMs: 50, durationMs: Infinity } } });
  });
  afterAll(() => h.close());

  /** A chunked body ended (the connection itself may stay open for the next request). */
  const bodyEnded = (received: string) => received.includes('\r\n\r\n') && dechunk(afterHead(received)).complete;

  /**
   * Opens `bytes` as `credentials`, waits for `ready`, expires the certificate, and returns what
   * came until `over` (the connection's close unless given).
   */
  const expireDuring = async (
    bytes: string,
    credentials: ClientCredentials,
    ready: (received: string) => boolean,
    over?: (received: string) => boolean,
  ) => {
    const connection = h.open(bytes, credentials);
    try {
      await expect.poll(() => ready(connection.received()), { timeout: 5_000 }).toBe(true);
      h.clock.advance(2 * 60_000);
      if (over) await expect.poll(() => over(connection.received()), { timeout: 5_000 }).toBe(true);
      else await connection.closed;
      return connection.received();
    } finally {
      h.clock.advance(-2 * 60_000);
      connection.socket.destroy();
    }
  };

  it('sends an exec whose certificate expired a Status on channel 3 naming the cause and the fix, then Close 1000', async () => {
    const ann = await h.issue({ username: 'ann' }, { ttlMs: 60_000 });
    const received = await expireDuring(rawUpgrade(CAT), ann, (r) => r.startsWith('HTTP/1.1 101 '));
    const frames = serverFrames(afterHead(received));
    const [status, close] = frames.slice(-2);
    expect(status?.payload[0]).toBe(3);
    expect(JSON.parse(status!.payload.subarray(1).toString())).toMatchObject({
      kind: 'Status',
      status: 'Failure',
      reason: 'Unauthorized',
      code: 401,
      message: expect.stringMatching(/certificate expired.*run tsh login/),
    });
    expect(close?.opcode).toBe(0x8);
    expect(close!.payload.readUInt16BE(0)).toBe(1000);
    expect(h.finished.find((s) => s.identity?.username === 'ann')?.outcome).toMatchObject({ status: 101, ended: 'certificate expired' });
  });

  it('ends a watch whose certificate expired with an ERROR event carrying the Status, after whole events, and the end of the body', async () => {
    const bea = await h.issue({ username: 'bea' }, { ttlMs: 60_000 });
    const received = await expireDuring(get(WATCH), bea, (r) => (r.match(/"MODIFIED"/g) ?? []).length >= 3, bodyEnded);
    const { body, complete } = dechunk(afterHead(received));
    expect(complete).toBe(true);
    const events = body
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line) as { type: string; object: Record<string, unknown> });
    expect(events.slice(0, -1).every((e) => e.type === 'MODIFIED')).toBe(true);
    expect(events.at(-1)).toMatchObject({
      type: 'ERROR',
      object: { kind: 'Status', status: 'Failure', code: 401, message: expect.stringContaining('run tsh login') },
    });
  });

  it('ends a followed log whose user was removed with the proper end of its body, no text added to the log', async () => {
    const cy = await h.issue({ username: 'cy' });
    const connection = h.open(get(FOLLOW), cy);
    try {
      await expect.poll(() => connection.received(), { timeout: 5_000 }).toMatch(/HTTP\/1\.1 200 [^]*\r\n\r\n.+/);
      h.users.set('cy', null);
      await expect.poll(() => bodyEnded(connection.received()), { timeout: 5_000 }).toBe(true);
      const { body, complete } = dechunk(afterHead(connection.received()));
      expect(complete).toBe(true);
      expect(body).not.toMatch(/Kubeport|Status/);
      expect(h.finished.find((s) => s.identity?.username === 'cy')?.outcome).toMatchObject({
        ended: 'no longer authorized',
        message: expect.stringMatching(/^Kubeport ended this session: .*cy/),
      });
    } finally {
      h.users.delete('cy');
      connection.socket.destroy();
    }
  });
});
