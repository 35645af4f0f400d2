// A discovery request the agent refuses with a 503 (draining, an unhealthy cluster) is answered as
// text with a 502: for a 503 kubectl's discovery prints its own sentence and drops the agent's
// message (checked with the real kubectl in agent-unhealthy-cluster.test.ts); other requests keep
// their 503 Status. The audit event records the code that was sent.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AgentHarness, startAgentHarness } from '../support/agent-harness.js';
import { RecordingAuditSink } from '../support/recording-audit-sink.js';

const get = (path: string) => `GET ${path} HTTP/1.1\r\nHost: localhost\r\n\r\n`;
const WATCH = '/k8s/dev/api/v1/namespaces/default/pods?watch=true';
const sink = new RecordingAuditSink();
let h: AgentHarness;

beforeAll(async () => {
  h = await startAgentHarness({ audit: sink, kube: { streams: { intervalMs: 100, durationMs: 1_000 } } });
});
afterAll(() => h.close());

describe('discovery refusals while the agent drains', () => {
  it('answer discovery as 502 text naming the drain, and other requests with the 503 Status', async () => {
    const ops = await h.issue({ username: 'ops' });
    // Each connection holds a watch (it ends by itself within a second), so the next request
    // arrives on a kept-alive connection after the drain began.
    const discovery = h.open(get(WATCH), ops);
    const plain = h.open(get(WATCH), ops);
    for (const connection of [discovery, plain]) await expect.poll(() => connection.received()).toMatch(/^HTTP\/1\.1 200 /);
    const drained = h.agent.drain(5_000);
    discovery.socket.write(get('/k8s/dev/apis'));
    plain.socket.write(get('/k8s/dev/api/v1/namespaces'));
    await expect.poll(() => discovery.received()).toMatch(/HTTP\/1\.1 502 [^]*shutting down/);
    const text = discovery.received().slice(discovery.received().lastIndexOf('HTTP/1.1 502'));
    expect(text).toMatch(/content-type: text\/plain; charset=utf-8/i);
    expect(text).toMatch(/\r\n\r\nthe Kubeport agent is shutting down and takes no new requests; [^\n]*\n$/);
    await expect.poll(() => plain.received()).toMatch(/HTTP\/1\.1 503 [^]*"code":503/);
    const uid = [...discovery.received().matchAll(/\r\naudit-id: ([^\r\n]+)/gi)].at(-1)![1]!;
    expect(sink.byUid(uid)).toMatchObject({ request_path: '/apis', response_code: 502, end_reason: 'agent draining' });
    await drained;
  });
});
