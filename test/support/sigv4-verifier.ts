// Verifies AWS Signature Version 4 as AWS does, from the request as it came over the wire: the
// canonical request, the string to sign, the signing key derived from the secret of the access
// key id, the date window, the session token and the payload hash. Both forms: the Authorization
// header, and a presigned URL (X-Amz-Signature, X-Amz-Expires). Independent of any server, so
// the API Gateway stand-in and an STS stand-in (presigned GetCallerIdentity) share it.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { sigV4UriEncode as uriEncode } from '../../lib/core/aws-caller.js';

export const SIGV4_ALGORITHM = 'AWS4-HMAC-SHA256';
/**
 * How far X-Amz-Date may be from the verifier's clock, either way: five minutes, as AWS documents
 * for SigV4 ("a request must reach AWS within five minutes of the time stamp in the request",
 * IAM User Guide, signing AWS API requests) and as API Gateway answers a late one ("Signature
 * expired: … is now earlier than … (… - 5 min.)"). Some services allow more; execute-api does not.
 */
export const SIGV4_MAX_SKEW_MS = 5 * 60_000;
/** The longest X-Amz-Expires AWS accepts on a presigned URL (7 days). */
export const SIGV4_MAX_EXPIRES_S = 604_800;

export interface WireRequest {
  method: string;
  /** The request target as sent: path and query, still percent-encoded (http.IncomingMessage.url). */
  url: string;
  /** Header names in any case; a header sent more than once is given once per value. */
  headers: Record<string, string | string[] | undefined> | [name: string, value: string][];
  body: Uint8Array;
}

export interface SigV4Credential {
  secretAccessKey: string;
  /** Set for temporary credentials: the request must carry this token, signed. */
  sessionToken?: string;
}

export interface SigV4VerifierOptions {
  service: string;
  region: string;
  now: Date;
  /** The credential behind an access key id, or undefined for one AWS does not know. */
  credential(accessKeyId: string): SigV4Credential | undefined;
}

export type SigV4Verdict = { ok: true; accessKeyId: string; signedAt: Date; form: 'header' | 'query' } | { ok: false; reason: string };

interface SignatureParts {
  form: 'header' | 'query';
  accessKeyId: string;
  scopeDate: string;
  region: string;
  service: string;
  signedHeaders: string[];
  signature: string;
  amzDate: string;
  expiresSeconds?: number;
  sessionToken?: string;
}

class Refusal extends Error {}
const refuse = (reason: string): never => {
  throw new Refusal(reason);
};

export function verifySigV4(request: WireRequest, options: SigV4VerifierOptions): SigV4Verdict {
  try {
    return verified(request, options);
  } catch (error) {
    if (error instanceof Refusal) return { ok: false, reason: error.message };
    throw error;
  }
}

function verified(request: WireRequest, options: SigV4VerifierOptions): SigV4Verdict {
  const headers = headerValues(request.headers);
  const queryStart = request.url.indexOf('?');
  const path = queryStart < 0 ? request.url : request.url.slice(0, queryStart);
  const query = parseQuery(queryStart < 0 ? '' : request.url.slice(queryStart + 1));
  const parts = signatureParts(headers, query);

  if (parts.region !== options.region) refuse(`credential scope region ${parts.region} is not ${options.region}`);
  if (parts.service !== options.service) refuse(`credential scope service ${parts.service} is not ${options.service}`);
  const signedAt = parseAmzDate(parts.amzDate);
  if (parts.scopeDate !== parts.amzDate.slice(0, 8)) refuse('credential scope date is not the date of X-Amz-Date');
  const now = options.now.getTime();
  if (signedAt.getTime() > now + SIGV4_MAX_SKEW_MS) refuse('X-Amz-Date is more than 5 minutes in the future');
  if (parts.expiresSeconds === undefined) {
    if (signedAt.getTime() < now - SIGV4_MAX_SKEW_MS) refuse('X-Amz-Date is more than 5 minutes in the past (signature expired)');
  } else if (now > signedAt.getTime() + parts.expiresSeconds * 1000) {
    refuse('the presigned URL has expired');
  }

  const credential = options.credential(parts.accessKeyId);
  if (!credential) return refuse(`access key ${parts.accessKeyId} is not known`);
  if (credential.sessionToken !== parts.sessionToken) {
    refuse(
      credential.sessionToken === undefined
        ? 'a session token was sent for long-term credentials'
        : 'the session token is missing or wrong',
    );
  }
  if (!parts.signedHeaders.includes('host')) refuse('the host header is not signed');
  if (parts.form === 'header' && !parts.signedHeaders.includes('x-amz-date')) refuse('x-amz-date is not signed');
  if (parts.form === 'header' && parts.sessionToken !== undefined && !parts.signedHeaders.includes('x-amz-security-token')) {
    refuse('x-amz-security-token is not signed');
  }

  const payloadHash = sha256Hex(request.body);
  const claimedHash = headers.get('x-amz-content-sha256');
  if (claimedHash !== undefined && claimedHash !== payloadHash) refuse('x-amz-content-sha256 is not the hash of the body');

  // Each header line ends with a newline, so the header block is followed by an empty line.
  const canonicalHeaders = parts.signedHeaders
    .map((name) => `${name}:${canonicalHeaderValue(headers.get(name) ?? refuse(`signed header ${name} is missing`))}\n`)
    .join('');
  const canonical = [
    request.method.toUpperCase(),
    canonicalPath(path),
    canonicalQuery(query.filter(([name]) => name !== 'X-Amz-Signature')),
    canonicalHeaders,
    parts.signedHeaders.join(';'),
    payloadHash,
  ].join('\n');
  const scope = `${parts.scopeDate}/${parts.region}/${parts.service}/aws4_request`;
  const stringToSign = [SIGV4_ALGORITHM, parts.amzDate, scope, sha256Hex(canonical)].join('\n');
  const key = signingKey(credential.secretAccessKey, parts.scopeDate, parts.region, parts.service);
  const expected = createHmac('sha256', key).update(stringToSign).digest();
  const given = Buffer.from(parts.signature, 'hex');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    refuse('the signature does not match (wrong secret, or the request changed after signing)');
  }
  return { ok: true, accessKeyId: parts.accessKeyId, signedAt, form: parts.form };
}

/** The signing key: HMAC chain from "AWS4" + secret over date, region, service and "aws4_request". */
export function signingKey(secretAccessKey: string, date: string, region: string, service: string): Buffer {
  let key: Buffer = Buffer.from(`AWS4${secretAccessKey}`, 'utf8');
  for (const part of [date, region, service, 'aws4_request']) key = createHmac('sha256', key).update(part).digest();
  return key;
}

function signatureParts(headers: Map<string, string>, query: [string, string][]): SignatureParts {
  const fromQuery = (name: string) => {
    const values = query.filter(([key]) => key === name);
    if (values.length > 1) refuse(`${name} is given more than once`);
    return values[0]?.[1];
  };
  const authorization = headers.get('authorization');
  const querySignature = fromQuery('X-Amz-Signature');
  if (authorization !== undefined && querySignature !== undefined) refuse('signed both in the Authorization header and in the query');
  if (authorization !== undefined) {
    const match = /^AWS4-HMAC-SHA256 Credential=([^,\s]+),\s*SignedHeaders=([^,\s]+),\s*Signature=([0-9a-f]{64})$/.exec(authorization);
    if (!match) return refuse('the Authorization header is not an AWS4-HMAC-SHA256 signature');
    const amzDate = headers.get('x-amz-date') ?? refuse('x-amz-date header is missing');
    const token = headers.get('x-amz-security-token');
    return {
      form: 'header',
      ...credentialScope(match[1]!),
      signedHeaders: signedHeaderList(match[2]!),
      signature: match[3]!,
      amzDate,
      ...(token !== undefined ? { sessionToken: token } : {}),
    };
  }
  if (querySignature === undefined) return refuse('the request is not signed');
  if (fromQuery('X-Amz-Algorithm') !== SIGV4_ALGORITHM) refuse(`X-Amz-Algorithm is not ${SIGV4_ALGORITHM}`);
  if (!/^[0-9a-f]{64}$/.test(querySignature)) refuse('X-Amz-Signature is not a hex SHA-256 signature');
  const expires = fromQuery('X-Amz-Expires') ?? refuse('X-Amz-Expires is missing');
  if (!/^\d{1,6}$/.test(expires) || Number(expires) < 1 || Number(expires) > SIGV4_MAX_EXPIRES_S) {
    refuse(`X-Amz-Expires must be 1 to ${SIGV4_MAX_EXPIRES_S} seconds`);
  }
  const token = fromQuery('X-Amz-Security-Token');
  return {
    form: 'query',
    ...credentialScope(fromQuery('X-Amz-Credential') ?? refuse('X-Amz-Credential is missing')),
    signedHeaders: signedHeaderList(fromQuery('X-Amz-SignedHeaders') ?? refuse('X-Amz-SignedHeaders is missing')),
    signature: querySignature,
    amzDate: fromQuery('X-Amz-Date') ?? refuse('X-Amz-Date is missing'),
    expiresSeconds: Number(expires),
    ...(token !== undefined ? { sessionToken: token } : {}),
  };
}

function credentialScope(credential: string) {
  const [accessKeyId, scopeDate, region, service, terminator, extra] = credential.split('/');
  if (!accessKeyId || !scopeDate || !region || !service || terminator !== 'aws4_request' || extra !== undefined) {
    return refuse('the credential is not ACCESS_KEY/DATE/REGION/SERVICE/aws4_request');
  }
  if (!/^\d{8}$/.test(scopeDate)) refuse('the credential scope date is not YYYYMMDD');
  return { accessKeyId, scopeDate, region, service };
}

function signedHeaderList(text: string): string[] {
  const names = text.split(';');
  const canonical = [...new Set(names.map((name) => name.toLowerCase()))].sort();
  if (names.some((name) => name === '') || names.join(';') !== canonical.join(';')) {
    refuse('SignedHeaders must be lowercase, sorted and without repeats');
  }
  return names;
}

function parseAmzDate(text: string): Date {
  const match = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(text);
  if (!match) return refuse('X-Amz-Date is not YYYYMMDDTHHMMSSZ');
  const [, y, mo, d, h, mi, s] = match.map(Number) as number[];
  const date = new Date(Date.UTC(y!, mo! - 1, d!, h!, mi!, s!));
  if (date.getUTCDate() !== d || date.getUTCMonth() !== mo! - 1) refuse('X-Amz-Date is not a real date');
  return date;
}

/** Header names lowercased; values of a header sent more than once joined with commas, as AWS does. */
function headerValues(headers: WireRequest['headers']): Map<string, string> {
  const entries: [string, string | string[] | undefined][] = Array.isArray(headers) ? headers : Object.entries(headers);
  const values = new Map<string, string>();
  for (const [name, value] of entries) {
    if (value === undefined) continue;
    for (const one of Array.isArray(value) ? value : [value]) {
      const key = name.toLowerCase();
      const before = values.get(key);
      values.set(key, before === undefined ? one : `${before},${one}`);
    }
  }
  return values;
}

function canonicalHeaderValue(value: string): string {
  return value.trim().replace(/\s+/g, ' ');
}

/** Query pairs, decoded; a malformed escape is refused rather than guessed at. */
function parseQuery(raw: string): [string, string][] {
  if (raw === '') return [];
  return raw.split('&').map((pair) => {
    const equals = pair.indexOf('=');
    const [name, value] = equals < 0 ? [pair, ''] : [pair.slice(0, equals), pair.slice(equals + 1)];
    try {
      return [decodeURIComponent(name), decodeURIComponent(value)];
    } catch {
      return refuse('the query has a malformed percent-escape');
    }
  });
}

function canonicalQuery(pairs: [string, string][]): string {
  return pairs
    .map(([name, value]) => [uriEncode(name), uriEncode(value)] as const)
    .sort(([a, x], [b, y]) => (a < b ? -1 : a > b ? 1 : x < y ? -1 : x > y ? 1 : 0))
    .map(([name, value]) => `${name}=${value}`)
    .join('&');
}

/**
 * The path as every service but S3 canonicalizes it: empty and "." segments dropped, ".." taken
 * back, and each segment encoded once more over the encoding it was sent with.
 */
function canonicalPath(path: string): string {
  const segments: string[] = [];
  for (const segment of path.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') segments.pop();
    else segments.push(segment);
  }
  const trailing = segments.length > 0 && path.endsWith('/') ? '/' : '';
  return `/${segments.map(uriEncode).join('/')}${trailing}`;
}

function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}
