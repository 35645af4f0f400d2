// Amazon Route 53 on loopback, speaking its REST-XML protocol (API version 2013-04-01) so
// @aws-sdk/client-route-53 runs unchanged (`endpoint` or AWS_ENDPOINT_URL_ROUTE_53). It verifies
// SigV4 (service route53, region us-east-1: Route 53 is global and signs there), answers
// ChangeResourceRecordSets (CREATE, UPSERT, DELETE of simple records) and ListResourceRecordSets,
// and, like the stack's IAM policy, lets each principal change only the record names granted to it.
import { randomUUID } from 'node:crypto';
import { type IncomingMessage, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { verifySigV4 } from './sigv4-verifier.js';

const NS = 'https://route53.amazonaws.com/doc/2013-04-01/';

export interface Route53Principal {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  arn: string;
  /** The record names (lower case, no trailing dot) it may change: the stack's route53:ChangeResourceRecordSetsNormalizedRecordNames. */
  mayChange: string[];
}

export interface Route53Record {
  name: string;
  type: string;
  ttl: number;
  values: string[];
}

export interface Route53StandInOptions {
  /** Zone id (without /hostedzone/) to its apex name (without trailing dot). */
  zones: Record<string, string>;
  principals: Route53Principal[];
  now?: () => Date;
}

export interface Route53StandIn {
  url: string;
  /** The records of a zone, by `name type` (name with its trailing dot, as Route 53 stores it). */
  records(zoneId: string): Map<string, Route53Record>;
  /** Each change batch accepted, in order. */
  changes: { zoneId: string; principal: string; action: string; record: Route53Record }[];
  /** Each refusal: its AWS error code and message. */
  refusals: { code: string; message: string }[];
  close(): Promise<void>;
}

class Route53Error extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const xmlEscape = (text: string) => text.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);
const xmlUnescape = (text: string) =>
  text
    .replace(/&#(\d+);/g, (_, code: string) => String.fromCharCode(Number(code)))
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&amp;/g, '&');
/** Every element `tag` directly in `xml` (the protocol's documents nest no element in one of its own name). */
const elements = (xml: string, tag: string): string[] =>
  [...xml.matchAll(new RegExp(`<${tag}(?:\\s[^>]*)?>([\\s\\S]*?)</${tag}>`, 'g'))].map((m) => m[1]!);
const element = (xml: string, tag: string): string | undefined => elements(xml, tag)[0];

/** A name as Route 53 stores it: lower case, with its trailing dot. */
const fqdn = (name: string) => `${name.toLowerCase().replace(/\.$/, '')}.`;

export async function startRoute53StandIn(options: Route53StandInOptions): Promise<Route53StandIn> {
  const zones = new Map(
    Object.entries(options.zones).map(([id, apex]) => [id, { apex: fqdn(apex), records: new Map<string, Route53Record>() }]),
  );
  const byKey = new Map(options.principals.map((p) => [p.accessKeyId, p]));
  const changes: Route53StandIn['changes'] = [];
  const refusals: Route53StandIn['refusals'] = [];
  const now = options.now ?? (() => new Date());

  const zoneOf = (id: string) => {
    const zone = zones.get(id);
    if (!zone) throw new Route53Error(404, 'NoSuchHostedZone', `No hosted zone found with ID: ${id}`);
    return zone;
  };

  const changeRecordSets = (zoneId: string, principal: Route53Principal, body: string): string => {
    const zone = zoneOf(zoneId);
    const batch = element(body, 'ChangeBatch');
    const list = batch === undefined ? [] : elements(element(batch, 'Changes') ?? '', 'Change');
    if (list.length === 0) throw new Route53Error(400, 'InvalidInput', 'ChangeBatch must name at least one change');
    const problems: string[] = [];
    const planned: { action: string; record: Route53Record }[] = [];
    for (const change of list) {
      const action = element(change, 'Action') ?? '';
      const set = element(change, 'ResourceRecordSet') ?? '';
      const name = fqdn(xmlUnescape(element(set, 'Name') ?? ''));
      const type = element(set, 'Type') ?? '';
      const ttl = Number(element(set, 'TTL') ?? 'NaN');
      const values = elements(element(set, 'ResourceRecords') ?? '', 'ResourceRecord').map((r) => xmlUnescape(element(r, 'Value') ?? ''));
      if (!['CREATE', 'UPSERT', 'DELETE'].includes(action)) throw new Route53Error(400, 'InvalidInput', `Invalid action ${action}`);
      if (!principal.mayChange.map(fqdn).includes(name)) {
        throw new Route53Error(
          403,
          'AccessDenied',
          `User: ${principal.arn} is not authorized to perform: route53:ChangeResourceRecordSets on resource: arn:aws:route53:::hostedzone/${zoneId} because no identity-based policy allows the route53:ChangeResourceRecordSets action`,
        );
      }
      if (name !== zone.apex && !name.endsWith(`.${zone.apex}`)) {
        problems.push(`RRSet with DNS name ${name} is not permitted in zone ${zone.apex}`);
        continue;
      }
      if (!Number.isInteger(ttl) || ttl < 0 || values.length === 0) {
        problems.push(`Invalid resource record set ${name}: a TTL and at least one ResourceRecord are required`);
        continue;
      }
      if (type === 'A' && !values.every((v) => /^(\d{1,3})(\.\d{1,3}){3}$/.test(v) && v.split('.').every((p) => Number(p) <= 255))) {
        problems.push(`ARRDATAIllegalIPv4Address (Value is not a valid IPv4 address) encountered with '${values.join(',')}'`);
        continue;
      }
      const key = `${name} ${type}`;
      const existing = zone.records.get(key);
      if (action === 'CREATE' && existing)
        problems.push(`Tried to create resource record set [name='${name}', type='${type}'] but it already exists`);
      if (action === 'DELETE' && !existing)
        problems.push(`Tried to delete resource record set [name='${name}', type='${type}'] but it was not found`);
      planned.push({ action, record: { name, type, ttl, values } });
    }
    if (problems.length > 0) throw new Route53Error(400, 'InvalidChangeBatch', problems.join('; '));
    // All or nothing, as Route 53 applies a batch.
    for (const { action, record } of planned) {
      const key = `${record.name} ${record.type}`;
      if (action === 'DELETE') zone.records.delete(key);
      else zone.records.set(key, record);
      changes.push({ zoneId, principal: principal.arn, action, record });
    }
    return (
      `<?xml version="1.0" encoding="UTF-8"?>\n<ChangeResourceRecordSetsResponse xmlns="${NS}"><ChangeInfo>` +
      `<Id>/change/C${randomUUID().replace(/-/g, '').slice(0, 14).toUpperCase()}</Id><Status>PENDING</Status>` +
      `<SubmittedAt>${now().toISOString()}</SubmittedAt></ChangeInfo></ChangeResourceRecordSetsResponse>`
    );
  };

  const listRecordSets = (zoneId: string): string => {
    const zone = zoneOf(zoneId);
    const sets = [...zone.records.values()]
      .map(
        (r) =>
          `<ResourceRecordSet><Name>${xmlEscape(r.name)}</Name><Type>${r.type}</Type><TTL>${r.ttl}</TTL><ResourceRecords>` +
          r.values.map((v) => `<ResourceRecord><Value>${xmlEscape(v)}</Value></ResourceRecord>`).join('') +
          `</ResourceRecords></ResourceRecordSet>`,
      )
      .join('');
    return (
      `<?xml version="1.0" encoding="UTF-8"?>\n<ListResourceRecordSetsResponse xmlns="${NS}"><ResourceRecordSets>${sets}</ResourceRecordSets>` +
      `<IsTruncated>false</IsTruncated><MaxItems>300</MaxItems></ListResourceRecordSetsResponse>`
    );
  };

  const handle = async (request: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const requestId = randomUUID();
    const answer = (status: number, xml: string) => {
      response.writeHead(status, { 'content-type': 'text/xml', 'x-amzn-requestid': requestId, 'content-length': Buffer.byteLength(xml) });
      response.end(xml);
    };
    try {
      const pairs: [string, string][] = [];
      for (let i = 0; i < request.rawHeaders.length; i += 2) pairs.push([request.rawHeaders[i]!, request.rawHeaders[i + 1]!]);
      const verdict = verifySigV4(
        { method: request.method ?? 'GET', url: request.url ?? '/', headers: pairs, body },
        { service: 'route53', region: 'us-east-1', now: now(), credential: (id) => byKey.get(id) },
      );
      if (!verdict.ok) throw new Route53Error(403, 'SignatureDoesNotMatch', verdict.reason);
      const principal = byKey.get(verdict.accessKeyId)!;
      const path = (request.url ?? '/').split('?')[0]!;
      const match = /^\/2013-04-01\/hostedzone\/([^/]+)\/rrset\/?$/.exec(path);
      if (!match) throw new Route53Error(404, 'UnknownOperationException', `no operation at ${request.method} ${path}`);
      const zoneId = decodeURIComponent(match[1]!);
      if (request.method === 'POST') answer(200, changeRecordSets(zoneId, principal, body.toString('utf8')));
      else if (request.method === 'GET') answer(200, listRecordSets(zoneId));
      else throw new Route53Error(405, 'UnknownOperationException', `no operation at ${request.method} ${path}`);
    } catch (error) {
      const failure = error instanceof Route53Error ? error : new Route53Error(500, 'InternalFailure', String(error));
      refusals.push({ code: failure.code, message: failure.message });
      const messages = failure.code === 'InvalidChangeBatch' ? `<Messages><Message>${xmlEscape(failure.message)}</Message></Messages>` : '';
      answer(
        failure.status,
        failure.code === 'InvalidChangeBatch'
          ? `<?xml version="1.0" encoding="UTF-8"?>\n<InvalidChangeBatch xmlns="${NS}">${messages}<RequestId>${requestId}</RequestId></InvalidChangeBatch>`
          : `<?xml version="1.0" encoding="UTF-8"?>\n<ErrorResponse xmlns="${NS}"><Error><Type>Sender</Type><Code>${failure.code}</Code>` +
              `<Message>${xmlEscape(failure.message)}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`,
      );
    }
  };

  const server = createServer((request, response) => void handle(request, response));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    records: (zoneId) => zoneOf(zoneId).records,
    changes,
    refusals,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
