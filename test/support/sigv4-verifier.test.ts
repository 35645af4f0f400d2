// The SigV4 verifier against the real signer (@smithy/signature-v4, as every AWS SDK client
// signs): what it signs verifies, in both forms; any change after signing, a wrong secret or
// token, and a date outside the window are refused.
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import { describe, expect, it } from 'vitest';
import { NodeSha256 } from '../../lib/platform/aws-sigv4-signer.js';
import { sigV4UriEncode } from '../../lib/core/aws-caller.js';
import { type SigV4Credential, type WireRequest, verifySigV4 } from './sigv4-verifier.js';

const now = new Date('2026-12-02T12:00:00Z');
const minutes = (n: number) => new Date(now.getTime() + n * 60_000);
const longTerm = { accessKeyId: 'AKIDEXAMPLELONGTERM', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };
const temporary = { accessKeyId: 'ASIAEXAMPLETEMPORARY', secretAccessKey: 'temporary-secret', sessionToken: 'FwoGZXIvYXdzEXAMPLE//token=' };
const known: Record<string, SigV4Credential> = { [longTerm.accessKeyId]: longTerm, [temporary.accessKeyId]: temporary };
const verifierOptions = (at = now, service = 'execute-api') => ({
  service,
  region: 'eu-west-1',
  now: at,
  credential: (id: string) => known[id],
});

const signer = (credentials: typeof longTerm | typeof temporary, service = 'execute-api') =>
  new SignatureV4({ service, region: 'eu-west-1', credentials, sha256: NodeSha256 });

function request(overrides: Partial<ConstructorParameters<typeof HttpRequest>[0]> = {}) {
  return new HttpRequest({
    method: 'POST',
    protocol: 'https:',
    hostname: 'abc123.execute-api.eu-west-1.amazonaws.com',
    path: '/webapi/iam/admin/resources/role/team%20a',
    query: { since: '1h ago', user: ['b@x', 'a*b'], flag: '' },
    headers: {
      host: 'abc123.execute-api.eu-west-1.amazonaws.com',
      'content-type': 'application/json',
      accept: 'application/json',
      'x-custom': '  spaced   value ',
    },
    body: '{"documents":[]}',
    ...overrides,
  });
}

/** The request as the SDK sends it over the wire: the path as given, the query percent-encoded. */
interface SignedRequest {
  method: string;
  path: string;
  query?: Record<string, string | (string | null)[] | null>;
  headers: Record<string, string>;
  body?: unknown;
}

function wire(signed: SignedRequest): WireRequest {
  const query = Object.entries(signed.query ?? {}).flatMap(([name, value]) =>
    (Array.isArray(value) ? value : [value]).map((one) => `${sigV4UriEncode(name)}=${sigV4UriEncode(one ?? '')}`),
  );
  return {
    method: signed.method,
    url: `${signed.path}${query.length > 0 ? `?${query.join('&')}` : ''}`,
    headers: Object.entries(signed.headers),
    body: Buffer.from((signed.body as string | undefined) ?? ''),
  };
}

const signedWith = async (credentials: typeof longTerm | typeof temporary, at = now, req = request()) =>
  wire(await signer(credentials).sign(req, { signingDate: at }));
const presignedWith = async (
  credentials: typeof longTerm | typeof temporary,
  expiresIn: number,
  req = request({ method: 'GET', body: '' }),
) => wire(await signer(credentials).presign(req, { signingDate: now, expiresIn }));

const withHeader = (req: WireRequest, name: string, value: string): WireRequest => ({
  ...req,
  headers: [...(req.headers as [string, string][]).filter(([n]) => n.toLowerCase() !== name), [name, value]],
});
const refusal = (req: WireRequest, at = now) => {
  const verdict = verifySigV4(req, verifierOptions(at));
  return verdict.ok ? 'accepted' : verdict.reason;
};

describe('SigV4 verification (Authorization header)', () => {
  it('accepts what the real signer signed, with long-term and with temporary credentials', async () => {
    expect(verifySigV4(await signedWith(longTerm), verifierOptions())).toEqual({
      ok: true,
      accessKeyId: longTerm.accessKeyId,
      signedAt: now,
      form: 'header',
    });
    expect(verifySigV4(await signedWith(temporary), verifierOptions())).toMatchObject({ ok: true, accessKeyId: temporary.accessKeyId });
  });

  it('accepts paths that need encoding twice, "." and ".." segments, and an empty body', async () => {
    for (const path of ['/webapi/iam/admin/users/%C3%A9t%C3%A9', '/webapi/iam/./admin/x/../users', '/webapi/iam/admin/users/', '/']) {
      expect(refusal(await signedWith(longTerm, now, request({ path, method: 'GET', body: '', query: {} })))).toBe('accepted');
    }
  });

  it('refuses a body changed after signing', async () => {
    const req = await signedWith(longTerm);
    expect(refusal({ ...req, body: Buffer.from('{"documents":[{}]}') })).toMatch(/x-amz-content-sha256 is not the hash of the body/);
    // Without the payload-hash header (as API Gateway clients may sign) the signature itself catches it.
    const bareSigner = new SignatureV4({
      service: 'execute-api',
      region: 'eu-west-1',
      credentials: longTerm,
      sha256: NodeSha256,
      applyChecksum: false,
    });
    const bare = wire(await bareSigner.sign(request(), { signingDate: now }));
    expect((bare.headers as [string, string][]).some(([n]) => n === 'x-amz-content-sha256')).toBe(false);
    expect(refusal(bare)).toBe('accepted');
    expect(refusal({ ...bare, body: Buffer.from('{"documents":[{}]}') })).toMatch(/signature does not match/);
  });

  it('refuses a wrong secret, an unknown access key, and a missing or wrong session token', async () => {
    expect(refusal(await signedWith({ ...longTerm, secretAccessKey: 'not-the-secret' }))).toMatch(/signature does not match/);
    expect(refusal(await signedWith({ ...longTerm, accessKeyId: 'AKIDUNKNOWN' }))).toMatch(/access key AKIDUNKNOWN is not known/);
    expect(refusal(await signedWith({ ...temporary, sessionToken: 'another-token' }))).toMatch(/session token is missing or wrong/);
    expect(refusal(await signedWith({ accessKeyId: temporary.accessKeyId, secretAccessKey: temporary.secretAccessKey }))).toMatch(
      /session token is missing or wrong/,
    );
    expect(refusal(await signedWith({ ...longTerm, sessionToken: 'x' }))).toMatch(/session token was sent for long-term credentials/);
  });

  it('refuses a date more than 5 minutes from the clock either way, as API Gateway does, and accepts one inside', async () => {
    expect(refusal(await signedWith(longTerm, minutes(-4)))).toBe('accepted');
    expect(refusal(await signedWith(longTerm, minutes(4)))).toBe('accepted');
    expect(refusal(await signedWith(longTerm, minutes(-6)))).toMatch(/more than 5 minutes in the past/);
    expect(refusal(await signedWith(longTerm, minutes(6)))).toMatch(/more than 5 minutes in the future/);
    // A replay later on is the same as a stale date.
    expect(refusal(await signedWith(longTerm), minutes(6))).toMatch(/more than 5 minutes in the past/);
  });

  it('refuses a changed signed header, method, path or query, and a changed date header', async () => {
    const req = await signedWith(longTerm);
    expect(refusal(withHeader(req, 'content-type', 'text/plain'))).toMatch(/signature does not match/);
    expect(refusal(withHeader(req, 'x-custom', 'other'))).toMatch(/signature does not match/);
    expect(refusal(withHeader(req, 'x-amz-date', '20261202T120100Z'))).toMatch(/signature does not match/);
    expect(refusal({ ...req, method: 'PUT' })).toMatch(/signature does not match/);
    expect(refusal({ ...req, url: req.url.replace('team%20a', 'team%20b') })).toMatch(/signature does not match/);
    expect(refusal({ ...req, url: req.url.replace('since=1h', 'since=2h') })).toMatch(/signature does not match/);
    expect(refusal({ ...req, url: `${req.url}&extra=1` })).toMatch(/signature does not match/);
    expect(refusal({ ...req, headers: (req.headers as [string, string][]).filter(([n]) => n !== 'x-custom') })).toMatch(
      /signed header x-custom is missing/,
    );
  });

  it('accepts headers added after signing that were not signed, and header values with spaces collapsed', async () => {
    const req = await signedWith(longTerm);
    expect(refusal(withHeader(req, 'user-agent', 'curl/8'))).toBe('accepted');
    expect(refusal(withHeader(req, 'x-custom', 'spaced value'))).toBe('accepted');
  });

  it('refuses a signature for another region or service, and an unsigned request', async () => {
    const req = await signedWith(longTerm);
    expect(verifySigV4(req, { ...verifierOptions(), region: 'us-east-1' })).toMatchObject({ ok: false, reason: /region eu-west-1/ });
    expect(verifySigV4(req, verifierOptions(now, 'sts'))).toMatchObject({ ok: false, reason: /service execute-api is not sts/ });
    const unsigned = wire(request());
    expect(refusal(unsigned)).toMatch(/not signed/);
  });
});

describe('SigV4 verification (presigned URL)', () => {
  it('accepts a presigned URL until it expires, then refuses it', async () => {
    const url = await presignedWith(temporary, 60);
    expect(verifySigV4(url, verifierOptions())).toMatchObject({ ok: true, form: 'query', accessKeyId: temporary.accessKeyId });
    expect(refusal(url, new Date(now.getTime() + 60_000))).toBe('accepted');
    expect(refusal(url, new Date(now.getTime() + 61_000))).toMatch(/presigned URL has expired/);
  });

  it('refuses a presigned URL whose query, expiry, token or signature was changed', async () => {
    const url = await presignedWith(temporary, 60);
    expect(refusal({ ...url, url: url.url.replace('since=1h', 'since=9h') })).toMatch(/signature does not match/);
    expect(refusal({ ...url, url: url.url.replace('X-Amz-Expires=60', 'X-Amz-Expires=600') })).toMatch(/signature does not match/);
    expect(refusal({ ...url, url: url.url.replace(/X-Amz-Security-Token=[^&]+/, 'X-Amz-Security-Token=other') })).toMatch(/session token/);
    expect(
      refusal({
        ...url,
        url: url.url.replace(/X-Amz-Signature=([0-9a-f])/, (_m, c: string) => `X-Amz-Signature=${c === '0' ? '1' : '0'}`),
      }),
    ).toMatch(/signature does not match/);
    expect(refusal({ ...url, body: Buffer.from('x') })).toMatch(/signature does not match/);
  });

  it('refuses an expiry over seven days and a URL signed in both forms', async () => {
    const week = await presignedWith(longTerm, 604_800);
    expect(refusal(week)).toBe('accepted');
    expect(refusal({ ...week, url: week.url.replace('X-Amz-Expires=604800', 'X-Amz-Expires=604801') })).toMatch(/X-Amz-Expires must be/);
    const header = await signedWith(longTerm);
    const both = withHeader(week, 'authorization', (header.headers as [string, string][]).find(([n]) => n === 'authorization')![1]);
    expect(refusal(both)).toMatch(/both in the Authorization header and in the query/);
  });
});
