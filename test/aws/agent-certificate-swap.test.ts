// The agent's certificate kept fresh end to end: the agent's client gets it from the host-cert
// route (behind the SigV4 gateway stand-in), an HTTPS server serves it, and the renewal swaps a new
// one in place at half its life with setSecureContext, as the agent does (renewServerCertificate):
// a connection opened before keeps its certificate and keeps working, a new one gets the new one.
// Time is the harness's clock, moved by hand together with the renewal's timers.
import { X509Certificate } from 'node:crypto';
import { createServer as createHttpsServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { type TLSSocket, connect } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AgentTlsMaterial, agentHostCertificateClient } from '../../lib/adapters/aws/agent-host-certificate-client.js';
import { AGENT_HOST_CERT_TTL_MS } from '../../lib/core/agent-host-certificate.js';
import { CertificateRenewal, type RenewalTimers, renewalTime } from '../../lib/services/agent-certificate-renewal.js';
import { type ApiHarness, startApiHarness } from '../support/api-harness.js';
import { STAND_IN_ACCOUNT } from '../support/iam-api-gateway.js';
import { AGENT_TASK_ROLE } from '../support/sts-stand-in.js';

const region = 'eu-west-1';
const agent = {
  accessKeyId: AGENT_TASK_ROLE.accessKeyId,
  secretAccessKey: AGENT_TASK_ROLE.secretAccessKey,
  sessionToken: AGENT_TASK_ROLE.sessionToken!,
};

describe("the agent's certificate, renewed in place", () => {
  let h: ApiHarness;
  let server: Server;
  const pending = new Map<number, { at: number; callback: () => void }>();
  let nextTimer = 1;
  const timers: RenewalTimers = {
    setTimeout: (callback, ms) => {
      pending.set(nextTimer, { at: h.clock.now().getTime() + ms, callback });
      return nextTimer++;
    },
    clearTimeout: (handle) => pending.delete(handle as number),
  };
  /** Moves the harness clock to the next renewal timer and fires it; resolves once the renewal installed or logged. */
  const fireNext = async (events: { wait(): Promise<string> }) => {
    const [id, timer] = [...pending.entries()].sort((a, b) => a[1].at - b[1].at)[0]!;
    pending.delete(id);
    h.clock.set(new Date(timer.at));
    timer.callback();
    return events.wait();
  };
  const peerSerial = (port: number) =>
    new Promise<{ serial: string; socket: TLSSocket }>((resolve, reject) => {
      // The certificates are dated by the harness clock, ahead of the real one: not verified here.
      const socket = connect({ port, host: '127.0.0.1', rejectUnauthorized: false }, () =>
        resolve({ serial: socket.getPeerX509Certificate()!.serialNumber, socket }),
      );
      socket.on('error', reject);
    });

  beforeAll(async () => {
    h = await startApiHarness(new Date(), {
      iam: { region, principals: [{ ...agent, userArn: AGENT_TASK_ROLE.arn, granted: true }] },
      agentHostCert: { roleArn: `arn:aws:iam::${STAND_IN_ACCOUNT}:role/kubeport-agent`, hostNames: ['127.0.0.1'] },
    });
  });
  afterAll(async () => {
    server?.closeAllConnections();
    await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
    await h?.close();
  });

  it('serves the first certificate, swaps in a new one at half its life, and open connections keep theirs', async () => {
    const fetchCertificate = agentHostCertificateClient({ apiUrl: `http://${h.proxy}`, region, credentials: agent, clock: h.clock });
    const first = await fetchCertificate();
    expect(first.notAfter.getTime() - first.notBefore.getTime()).toBeGreaterThanOrEqual(AGENT_HOST_CERT_TTL_MS - 1000);
    const tls = (m: AgentTlsMaterial) => ({ cert: m.certPem, key: m.keyPem });
    server = createHttpsServer(tls(first), (_, response) => response.end('ok'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;

    let notify: ((line: string) => void) | undefined;
    const events = { wait: () => new Promise<string>((resolve) => (notify = resolve)) };
    const renewal = new CertificateRenewal<AgentTlsMaterial>(
      {
        fetch: fetchCertificate,
        install: (m) => server.setSecureContext(tls(m)),
        clock: h.clock,
        timers,
        log: (line) => notify?.(line),
      },
      first,
    );
    const before = await peerSerial(port);
    expect(before.serial).toBe(new X509Certificate(first.certPem).serialNumber);

    expect(await fireNext(events)).toMatch(/^agent certificate renewed/);
    expect(h.clock.now()).toEqual(renewalTime(first));
    const after = await peerSerial(port);
    expect(after.serial).not.toBe(before.serial);
    expect(after.serial).toBe(new X509Certificate(renewal.certificate.certPem).serialNumber);
    // The connection opened (and handshaken) before the swap still answers.
    before.socket.write('GET / HTTP/1.1\r\nHost: agent\r\nConnection: close\r\n\r\n');
    const reply = await new Promise<string>((resolve) => {
      let text = '';
      before.socket.on('data', (chunk: Buffer) => (text += chunk.toString()));
      before.socket.on('end', () => resolve(text));
    });
    expect(reply).toMatch(/^HTTP\/1\.1 200[\s\S]*ok$/);
    after.socket.destroy();

    // A lock on the agent role: the next renewal fails, is logged, and is retried a minute later.
    await h.deps.resources.put('lock', 'agent', {
      kind: 'lock',
      version: 'v2',
      metadata: { name: 'agent' },
      spec: { target: { user: `aws:arn:aws:iam::${STAND_IN_ACCOUNT}:role/kubeport-agent` } },
    });
    expect(await fireNext(events)).toMatch(/renewal failed \(the agent certificate was refused: 403 access_denied: lock targeting/);
    await h.deps.resources.delete('lock', 'agent');
    expect(await fireNext(events)).toMatch(/^agent certificate renewed/);
    renewal.stop();
    expect(pending.size).toBe(0);
  });
});
