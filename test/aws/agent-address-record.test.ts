// The economy agent's address record: the real Route 53 client against the REST-XML stand-in
// (SigV4 verified, the task role allowed to change its one record), the public address learned
// from a loopback stand-in of the what-is-my-IP service. A private, CGNAT, loopback or malformed
// answer is refused and nothing is published.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AGENT_ADDRESS_TTL_SECONDS,
  learnPublicIpv4,
  notPublicReason,
  publishAgentAddress,
  publishOwnAddress,
} from '../../lib/adapters/aws/agent-address-record.js';
import { makeRoute53Client } from '../../lib/adapters/aws/clients.js';
import { type Route53StandIn, startRoute53StandIn } from '../support/route53-stand-in.js';
import { AGENT_TASK_ROLE } from '../support/sts-stand-in.js';

const ZONE = 'Z0123456789ABCDEFGHIJ';
const DOMAIN = 'agent.kubeport.example.com';
const taskRole = {
  accessKeyId: AGENT_TASK_ROLE.accessKeyId,
  secretAccessKey: AGENT_TASK_ROLE.secretAccessKey,
  sessionToken: AGENT_TASK_ROLE.sessionToken!,
};

describe('the economy agent publishes its public address in Route 53', () => {
  let route53: Route53StandIn;
  let ipService: Server;
  let ipUrl: string;
  /** What the what-is-my-IP stand-in answers next. */
  let seenAs = '54.240.197.10\n';

  const client = (credentials = taskRole) => makeRoute53Client({ endpoint: route53.url, credentials });
  const publish = (url = ipUrl, credentials = taskRole) =>
    publishOwnAddress({
      route53: client(credentials),
      hostedZoneId: ZONE,
      domainName: DOMAIN,
      publicIp: { url, allowLoopbackHttp: true },
    });
  const record = () => route53.records(ZONE).get(`${DOMAIN}. A`);

  beforeAll(async () => {
    route53 = await startRoute53StandIn({
      zones: { [ZONE]: 'kubeport.example.com' },
      principals: [{ ...taskRole, arn: AGENT_TASK_ROLE.arn, mayChange: [DOMAIN] }],
    });
    ipService = createServer((_, response) => response.writeHead(200, { 'content-type': 'text/plain' }).end(seenAs));
    await new Promise<void>((resolve) => ipService.listen(0, '127.0.0.1', resolve));
    ipUrl = `http://127.0.0.1:${(ipService.address() as AddressInfo).port}/`;
  });
  afterAll(async () => {
    await route53?.close();
    await new Promise((resolve) => ipService?.close(resolve));
  });

  it('UPSERTs the A record with the learned address and a 60 s TTL, and again when the task comes back elsewhere', async () => {
    seenAs = '54.240.197.10\n';
    expect(await publish()).toBe('54.240.197.10');
    expect(record()).toEqual({ name: `${DOMAIN}.`, type: 'A', ttl: AGENT_ADDRESS_TTL_SECONDS, values: ['54.240.197.10'] });
    seenAs = '3.120.8.44';
    expect(await publish()).toBe('3.120.8.44');
    expect(record()?.values).toEqual(['3.120.8.44']);
    expect(route53.changes.map((c) => [c.action, c.principal, c.record.values[0]])).toEqual([
      ['UPSERT', AGENT_TASK_ROLE.arn, '54.240.197.10'],
      ['UPSERT', AGENT_TASK_ROLE.arn, '3.120.8.44'],
    ]);
  });

  it('the client finds Route 53 through AWS_ENDPOINT_URL_ROUTE_53, as the agent does', async () => {
    const saved = process.env.AWS_ENDPOINT_URL_ROUTE_53;
    process.env.AWS_ENDPOINT_URL_ROUTE_53 = route53.url;
    try {
      seenAs = '54.240.197.11';
      await publishAgentAddress(
        { route53: makeRoute53Client({ credentials: taskRole }), hostedZoneId: `/hostedzone/${ZONE}`, domainName: DOMAIN },
        '54.240.197.11',
      );
      expect(record()?.values).toEqual(['54.240.197.11']);
    } finally {
      if (saved === undefined) delete process.env.AWS_ENDPOINT_URL_ROUTE_53;
      else process.env.AWS_ENDPOINT_URL_ROUTE_53 = saved;
    }
  });

  it('a private, CGNAT, loopback, link-local or malformed answer is refused with a clear error and nothing is published', async () => {
    const before = route53.changes.length;
    for (const [answer, why] of [
      ['10.0.3.17', /private \(RFC 1918\)/],
      ['172.31.5.9', /private \(RFC 1918\)/],
      ['192.168.1.20', /private \(RFC 1918\)/],
      ['100.64.12.1', /carrier-grade NAT/],
      ['127.0.0.1', /loopback/],
      ['169.254.169.254', /link-local/],
      ['203.0.113.9', /documentation/],
      ['2001:db8::1', /not an IPv4 address/],
      ['<html>hello</html>', /not an IPv4 address/],
      ['54.240.197.300', /not an IPv4 address/],
    ] as const) {
      seenAs = answer;
      await expect(publish()).rejects.toThrow(why);
    }
    seenAs = '10.0.3.17';
    await expect(publish()).rejects.toThrow(/clients could not reach the agent there; give the task a public IP/);
    expect(route53.changes.length).toBe(before);
    await expect(publishAgentAddress({ route53: client(), hostedZoneId: ZONE, domainName: DOMAIN }, '192.168.0.1')).rejects.toThrow(
      /refusing to publish 192.168.0.1/,
    );
    expect(route53.changes.length).toBe(before);
    expect(notPublicReason('54.240.197.10')).toBeUndefined();
  });

  it('the address service must be https; plain http only to loopback, and only when a test says so', async () => {
    await expect(learnPublicIpv4({ url: 'http://checkip.example.com/' })).rejects.toThrow(/must be https/);
    await expect(learnPublicIpv4({ url: 'http://checkip.example.com/', allowLoopbackHttp: true })).rejects.toThrow(/must be https/);
    await expect(learnPublicIpv4({ url: ipUrl })).rejects.toThrow(/must be https/);
    seenAs = '54.240.197.10';
    expect(await learnPublicIpv4({ url: ipUrl, allowLoopbackHttp: true })).toBe('54.240.197.10');
  });

  it('Route 53 refuses a forged signature and a name the task role may not change; the record stays', async () => {
    const before = record();
    seenAs = '54.240.197.99';
    await expect(publish(ipUrl, { ...taskRole, secretAccessKey: 'guessed' })).rejects.toThrow();
    expect(route53.refusals.at(-1)?.code).toBe('SignatureDoesNotMatch');
    await expect(
      publishAgentAddress({ route53: client(), hostedZoneId: ZONE, domainName: 'www.kubeport.example.com' }, '54.240.197.99'),
    ).rejects.toThrow(/not authorized to perform: route53:ChangeResourceRecordSets/);
    await expect(
      publishAgentAddress({ route53: client(), hostedZoneId: 'ZNOSUCHZONE', domainName: DOMAIN }, '54.240.197.99'),
    ).rejects.toThrow(/No hosted zone found/);
    expect(record()).toEqual(before);
  });
});
