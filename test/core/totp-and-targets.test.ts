import { describe, expect, it } from 'vitest';
import { parseKubeTarget } from '../../lib/core/request-target.js';
import { matchTotp, totpCode } from '../../lib/core/totp.js';
import { parseResource } from '../../lib/core/resources.js';
import { parseDuration } from '../../lib/core/duration.js';

describe('TOTP (RFC 6238 test vectors, SHA-1)', () => {
  // Secret "12345678901234567890" in base32.
  const secret = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';
  it.each([
    [59, '287082'],
    [1111111109, '081804'],
    [1234567890, '005924'],
    [2000000000, '279037'],
  ])('at %i s the code is %s', (seconds, code) => {
    expect(totpCode(secret, Math.floor(seconds / 30))).toBe(code);
    expect(matchTotp(secret, code, new Date(seconds * 1000))).toBe(Math.floor(seconds / 30));
  });
  it('refuses codes two steps away and malformed codes', () => {
    expect(matchTotp(secret, '287082', new Date(59_000 + 90_000))).toBeUndefined();
    expect(matchTotp(secret, '28708', new Date(59_000))).toBeUndefined();
    expect(matchTotp(secret, '28708a', new Date(59_000))).toBeUndefined();
  });
});

describe('request targets', () => {
  it('splits cluster, path and query once', () => {
    expect(parseKubeTarget('/k8s/prod-1/api/v1/namespaces/default/pods?limit=500&watch=true')).toEqual({
      cluster: 'prod-1',
      path: '/api/v1/namespaces/default/pods',
      query: '?limit=500&watch=true',
    });
    expect(parseKubeTarget('/k8s/dev')).toEqual({ cluster: 'dev', path: '/', query: '' });
    expect(parseKubeTarget('/k8s/dev/apis/')).toEqual({ cluster: 'dev', path: '/apis/', query: '' });
  });
  it.each([
    '/k8s/dev/a/../b',
    '/k8s/dev/%2E%2E/x',
    '/k8s/dev/a%2fb',
    '/k8s/dev/a\\b',
    '/k8s/-dev/api',
    '/k8s//api',
    '/k8s/dev/api\t',
    '/k8s/dev/api#x',
    '/k8s/dev/%00',
  ])('refuses %j', (target) => {
    expect(() => parseKubeTarget(target)).toThrow();
  });
});

describe('resources', () => {
  it('names the field and the fix for bad input', () => {
    expect(parseResource({ kind: 'rolez' }, 'role.yaml')).toMatchObject({
      ok: false,
      message: expect.stringContaining('role.yaml: kind must be one of role, user, kube_cluster'),
    });
    const badTtl = parseResource(
      { kind: 'role', version: 'v7', metadata: { name: 'x' }, spec: { options: { max_session_ttl: 'forever' } } },
      'r.yaml',
    );
    expect(badTtl).toMatchObject({
      ok: false,
      message: 'r.yaml: role field spec.options.max_session_ttl: write a duration like 8h or 30m',
    });
    const badSelector = parseResource({ kind: 'role', metadata: { name: 'x' }, spec: { allow: { kubernetes_labels: { '*': 'prod' } } } });
    expect(badSelector).toMatchObject({ ok: false, message: expect.stringContaining('selector *:prod is not supported') });
    // Narrow entries are enforced now (kube-resource-access.ts), so they load; v8 wants plural kinds.
    const narrow = parseResource(
      {
        kind: 'role',
        metadata: { name: 'x' },
        spec: { allow: { kubernetes_resources: [{ kind: 'pods', api_group: '', namespace: 'dev', name: '*', verbs: ['get'] }] } },
      },
      'r.yaml',
    );
    expect(narrow).toMatchObject({ ok: true });
    const singular = parseResource(
      {
        kind: 'role',
        metadata: { name: 'x' },
        spec: { allow: { kubernetes_resources: [{ kind: 'pod', api_group: '', namespace: 'dev', name: '*', verbs: ['get'] }] } },
      },
      'r.yaml',
    );
    expect(singular).toMatchObject({
      ok: false,
      message: expect.stringContaining(
        'r.yaml: role field spec.allow.kubernetes_resources.0.kind: KubernetesResource kind "pod" is invalid',
      ),
    });
    const unknownField = parseResource({ kind: 'role', metadata: { name: 'x' }, spec: { allow: { kubernetes_lables: {} } } });
    expect(unknownField).toMatchObject({ ok: false, message: expect.stringContaining('spec.allow') });
  });
  it('parses durations as Teleport writes them', () => {
    expect(parseDuration('1h30m')).toBe(5_400_000);
    expect(() => parseDuration('12')).toThrow(/not a duration/);
  });
});
