// The agent follows a user CA rotation: it re-reads the CAs it trusts, takes certificates of a
// new CA from then on, stops taking those of a CA dropped, and keeps the connections it has.
import { afterEach, describe, expect, it } from 'vitest';
import type { IssuingCa } from '../../lib/core/certificate-authority.js';
import { type AgentHarness, newCa, startAgentHarness } from '../support/agent-harness.js';

const get = (path: string) => `GET ${path} HTTP/1.1\r\nHost: localhost\r\n\r\n`;
const statusLines = (text: string) => [...text.matchAll(/^HTTP\/1\.1 (\d{3})/gm)].map((m) => m[1]);

describe('the agent trusts the user CAs of the current rotation phase', () => {
  let h: AgentHarness | undefined;
  afterEach(() => h?.close());

  it('takes a new CA once it is trusted and refuses one no longer trusted, without dropping open connections', async () => {
    const nextCa = await newCa('Kubeport user CA (next)', { now: () => new Date() });
    let trusted = (userCa: IssuingCa) => [userCa.certPem];
    h = await startAgentHarness({ trustedUserCas: async (userCa) => trusted(userCa) });
    const harness = h;
    const before = await harness.issue({ username: 'alice' });
    const after = await harness.issue({ username: 'alice' }, { ca: nextCa });

    expect((await harness.request('/k8s/dev/api/v1/namespaces', { credentials: after })).status).toBe(401);
    // init: both trusted.
    trusted = (userCa) => [userCa.certPem, nextCa.certPem];
    await harness.agent.refreshTrust();
    expect((await harness.request('/k8s/dev/api/v1/namespaces', { credentials: after })).status).toBe(200);
    expect((await harness.request('/k8s/dev/api/v1/namespaces', { credentials: before })).status).toBe(200);

    // A connection made with the old CA's certificate, kept open across the old CA's retirement.
    const open = harness.open(get('/k8s/dev/api/v1/namespaces'), before);
    await expect.poll(() => statusLines(open.received())).toEqual(['200']);
    trusted = () => [nextCa.certPem];
    await harness.agent.refreshTrust();
    expect((await harness.request('/k8s/dev/api/v1/namespaces', { credentials: before })).status).toBe(401);
    expect((await harness.request('/k8s/dev/api/v1/namespaces', { credentials: after })).status).toBe(200);
    open.socket.write(get('/k8s/dev/api/v1/namespaces'));
    await expect.poll(() => statusLines(open.received())).toEqual(['200', '200']);
    open.socket.destroy();
  });

  it('keeps the CAs it trusts when they cannot be read, and refuses to start without any', async () => {
    let failing = false;
    h = await startAgentHarness({
      trustedUserCas: async (userCa) => {
        if (failing) throw new Error('store unreachable');
        return [userCa.certPem];
      },
    });
    const harness = h;
    failing = true;
    await expect(harness.agent.refreshTrust()).rejects.toThrow('store unreachable');
    const alice = await harness.issue({ username: 'alice' });
    expect((await harness.request('/k8s/dev/api/v1/namespaces', { credentials: alice })).status).toBe(200);
    await expect(startAgentHarness({ trustedUserCas: async () => [] })).rejects.toThrow('no user CA to trust');
  });
});
