// The agent's graceful stop: new connections refused at once, a request in flight answered, idle
// connections closed, open streams left to run until the deadline and then ended with a message
// the user sees (exec: a channel-3 Status and Close 1000; watch: an ERROR event), and progress
// lines that say what is waited for.
import { afterEach, describe, expect, it } from 'vitest';
import { DRAIN_MESSAGE } from '../../agent/stream-ending.js';
import { type AgentHarness, rawUpgrade, startAgentHarness } from '../support/agent-harness.js';
import { afterHead, dechunk, serverFrames } from '../support/wire-reading.js';

const CAT = '/k8s/dev/api/v1/namespaces/default/pods/web-0/exec?command=cat&stdin=true&stdout=true';
const WATCH = '/k8s/dev/api/v1/namespaces/default/pods?watch=true';
/** Served by the slow custom upstream below. */
const SLOW = '/k8s/custom/api/v1/namespaces/default/configmaps';
const SLOW_ANSWER_MS = 600;
const get = (path: string) => `GET ${path} HTTP/1.1\r\nHost: localhost\r\n\r\n`;

describe('agent drain', () => {
  let h: AgentHarness;
  afterEach(() => h.close());

  it('refuses new connections, answers the request in flight, closes idle connections, and ends streams at the deadline with the message', async () => {
    h = await startAgentHarness({
      kube: { streams: { intervalMs: 50, durationMs: Infinity } },
      customUpstream: (_req, res) =>
        setTimeout(() => res.end(JSON.stringify({ kind: 'ConfigMapList', apiVersion: 'v1', items: [] })), SLOW_ANSWER_MS),
    });
    const dee = await h.issue({ username: 'dee' });
    const exec = h.open(rawUpgrade(CAT), dee);
    const watch = h.open(get(WATCH), dee);
    const idle = h.open(get('/k8s/dev/api/v1/namespaces/default/pods/web-0'), dee);
    await expect.poll(() => exec.received(), { timeout: 5_000 }).toMatch(/^HTTP\/1\.1 101 /);
    await expect.poll(() => watch.received(), { timeout: 5_000 }).toMatch(/"MODIFIED"/);
    await expect.poll(() => idle.received(), { timeout: 5_000 }).toMatch(/"web-0"/);
    const inFlight = h.request(SLOW, { credentials: dee });
    await new Promise((resolve) => setTimeout(resolve, 100));

    const progress: string[] = [];
    const startedAt = Date.now();
    const deadlineMs = 2_000;
    const drained = h.agent.drain(deadlineMs, (line) => progress.push(line));
    expect(progress[0]).toMatch(/no new connections; waiting up to 2 s for 1 exec.* session, 1 watch.* and 1 request in flight to end/);

    // New connections are refused; the idle kept-alive connection is closed; the request in flight is answered.
    await expect(h.request('/k8s/dev/api/v1/namespaces/default/pods', { credentials: dee })).rejects.toThrow(/ECONNREFUSED/);
    await idle.closed;
    const answered = await inFlight;
    expect(answered.status).toBe(200);
    expect(answered.body).toContain('ConfigMapList');

    // The streams ran until the deadline, then ended with the message.
    await exec.closed;
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(deadlineMs - 50);
    const [status, close] = serverFrames(afterHead(exec.received())).slice(-2);
    expect(status?.payload[0]).toBe(3);
    expect(JSON.parse(status!.payload.subarray(1).toString())).toMatchObject({
      status: 'Failure',
      code: 503,
      message: DRAIN_MESSAGE,
    });
    expect(close?.payload.readUInt16BE(0)).toBe(1000);
    await watch.closed;
    const { body, complete } = dechunk(afterHead(watch.received()));
    expect(complete).toBe(true);
    expect(JSON.parse(body.trimEnd().split('\n').at(-1)!)).toMatchObject({ type: 'ERROR', object: { message: DRAIN_MESSAGE } });
    await drained;
    expect(progress.at(-1)).toMatch(/ended 2 open streams/);
  });

  it('ends the streams sooner when called again with a nearer deadline (a second Ctrl-C)', async () => {
    h = await startAgentHarness({ kube: { streams: { intervalMs: 50, durationMs: Infinity } } });
    const eve = await h.issue({ username: 'eve' });
    const watch = h.open(get(WATCH), eve);
    await expect.poll(() => watch.received(), { timeout: 5_000 }).toMatch(/"MODIFIED"/);
    const drained = h.agent.drain(60_000);
    const startedAt = Date.now();
    void h.agent.drain(0);
    await drained;
    expect(Date.now() - startedAt).toBeLessThan(10_000);
    expect(dechunk(afterHead(watch.received())).body).toContain('"ERROR"');
  });

  it('resolves at once when nothing is open', async () => {
    h = await startAgentHarness();
    const progress: string[] = [];
    const startedAt = Date.now();
    await h.agent.drain(60_000, (line) => progress.push(line));
    expect(Date.now() - startedAt).toBeLessThan(2_000);
    expect(progress).toEqual(['the agent takes no new connections; nothing open to wait for']);
  });
});
