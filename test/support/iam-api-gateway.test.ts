// The API Gateway stand-in itself: it answers refusals as API Gateway does and hands the function
// a payload v2 event whose requestContext.authorization.iam names the verified caller.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { awsSigV4Signer } from '../../lib/platform/aws-sigv4-signer.js';
import { type IamApiGateway, startIamApiGateway } from './iam-api-gateway.js';

describe('the IAM API Gateway stand-in', () => {
  let gateway: IamApiGateway;
  const seen: unknown[] = [];
  const refusals: string[] = [];
  const principal = { accessKeyId: 'AKIAOPS', secretAccessKey: 'ops-secret', userArn: 'arn:aws:iam::111122223333:user/ops', granted: true };
  const signer = awsSigV4Signer({ region: 'eu-west-1', credentials: principal, clock: { now: () => new Date() } });
  const send = async (path: string, sign = true) => {
    const request = { method: 'GET', url: `http://${gateway.proxy}${path}`, headers: { accept: 'application/json' }, body: '' };
    const signed = sign ? await signer.sign(request) : request;
    const response = await fetch(signed.url, { headers: signed.headers });
    return { status: response.status, body: await response.text() };
  };

  beforeAll(async () => {
    gateway = await startIamApiGateway({
      region: 'eu-west-1',
      principals: [principal],
      onRefusal: (reason) => refusals.push(reason),
      route: () => async (event) => {
        seen.push(event.requestContext);
        return { statusCode: 200, body: '{}' };
      },
    });
  });
  afterAll(() => gateway?.close());

  it('passes a verified call on with the caller in requestContext.authorization.iam', async () => {
    expect(await send('/webapi/iam/admin/status?x=a%20b')).toEqual({ status: 200, body: '{}' });
    expect(seen.at(-1)).toMatchObject({
      authorization: { iam: { accessKey: 'AKIAOPS', accountId: '111122223333', userArn: 'arn:aws:iam::111122223333:user/ops' } },
    });
  });

  it('answers an unsigned call on an IAM route with 403 {"message":"Forbidden"} without calling the function', async () => {
    const before = seen.length;
    expect(await send('/webapi/iam/admin/status', false)).toEqual({ status: 403, body: '{"message":"Forbidden"}' });
    expect(seen.length).toBe(before);
    expect(refusals.at(-1)).toMatch(/not signed/);
  });

  it('passes calls on other routes on without an IAM context', async () => {
    expect((await send('/webapi/ping', false)).status).toBe(200);
    expect(seen.at(-1)).not.toHaveProperty('authorization');
  });
});
