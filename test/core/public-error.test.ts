// The one rule for what a client may see of an error, as a table.
import { describe, expect, it } from 'vitest';
import { ConflictError, type ErrorCode, KubeportError } from '../../lib/core/errors.js';
import { INTERNAL_ERROR_MESSAGE, httpErrorResponse, publicError } from '../../lib/core/public-error.js';

const shownAsIs: [ErrorCode, number][] = [
  ['bad_request', 400],
  ['unauthenticated', 401],
  ['expired', 401],
  ['access_denied', 403],
  ['not_found', 404],
  ['conflict', 409],
  ['payload_too_large', 413],
  ['rate_limited', 429],
];

describe('publicError', () => {
  it.each(shownAsIs)('shows a %s error with its own message and status %i', (code, status) => {
    expect(publicError(new KubeportError(code, `cause and fix of ${code}`))).toEqual({
      code,
      httpStatus: status,
      message: `cause and fix of ${code}`,
    });
  });

  const hidden: [string, unknown][] = [
    ['an internal KubeportError', new KubeportError('internal', 'table users has no key schema')],
    ['a server configuration error', new KubeportError('invalid_config', 'KUBEPORT_TABLE is not set')],
    ['a plain Error', new Error('ECONNREFUSED 10.0.0.7:8000')],
    ['a TypeError from a bug', new TypeError("Cannot read properties of undefined (reading 'roles')")],
    ['a thrown string', 'boom'],
    ['undefined', undefined],
    ['an object that only looks like a KubeportError', { code: 'access_denied', httpStatus: 403, message: 'looks public' }],
  ];
  it.each(hidden)('hides %s behind code internal, status 500 and a generic message', (_name, error) => {
    expect(publicError(error)).toEqual({ code: 'internal', httpStatus: 500, message: INTERNAL_ERROR_MESSAGE });
  });

  it('keeps subclasses public and passes Retry-After on for rate limiting', () => {
    expect(publicError(new ConflictError('role "x" changed meanwhile; read it again'))).toMatchObject({
      code: 'conflict',
      httpStatus: 409,
    });
    expect(publicError(new KubeportError('rate_limited', 'too many failed logins; try again in 7 s', { retryAfterSeconds: 7 }))).toEqual({
      code: 'rate_limited',
      httpStatus: 429,
      message: 'too many failed logins; try again in 7 s',
      retryAfterSeconds: 7,
    });
  });

  it('lets an edge word the hidden message for its own users', () => {
    expect(publicError(new Error('x'), 'agent internal error').message).toBe('agent internal error');
  });
});

describe('httpErrorResponse', () => {
  it('answers JSON {error: {code, message}} with Retry-After, and logs only hidden errors, with their stack', () => {
    const logged: string[] = [];
    const limited = httpErrorResponse(new KubeportError('rate_limited', 'slow down; try again in 3 s', { retryAfterSeconds: 3 }), (m) =>
      logged.push(m),
    );
    expect(limited.statusCode).toBe(429);
    expect(limited.headers).toMatchObject({ 'content-type': 'application/json', 'retry-after': '3' });
    expect(JSON.parse(limited.body)).toEqual({ error: { code: 'rate_limited', message: 'slow down; try again in 3 s' } });
    expect(logged).toEqual([]);

    const bug = httpErrorResponse(new Error('secret detail'), (m) => logged.push(m));
    expect(bug.statusCode).toBe(500);
    expect(bug.headers['retry-after']).toBeUndefined();
    expect(JSON.parse(bug.body)).toEqual({ error: { code: 'internal', message: INTERNAL_ERROR_MESSAGE } });
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatch(/secret detail\n\s+at /);
  });
});
