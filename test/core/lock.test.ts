// kind: lock as Teleport users write it, which identities a lock names, when it stops applying,
// and what the roles say about locking mode and streams per user.
import { describe, expect, it } from 'vitest';
import { accessRole } from '../../lib/core/builtin-roles.js';
import {
  type Lock,
  isInForce,
  lockInForceFor,
  lockInForceMessage,
  lockTargets,
  lockingMode,
  maxKubernetesConnections,
} from '../../lib/core/lock.js';
import { describeTarget } from '../../lib/core/lock-target.js';
import { type Role, parseResource } from '../../lib/core/resources.js';

const lockDoc = (spec: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  kind: 'lock',
  version: 'v2',
  metadata: { name: 'dc7cee9d-fe5e-4534-a90d-db770f0234a1' },
  spec,
  ...extra,
});
const parsedLock = (spec: Record<string, unknown>): Lock => {
  const result = parseResource(lockDoc(spec), 'lock.yaml');
  if (!result.ok) throw new Error(result.message);
  return result.resource as Lock;
};
const alice = { username: 'alice', roles: ['access', 'devs'], traits: { logins: ['alice-gh'] }, accessRequests: ['req-1'] };
const roleWith = (name: string, options: Record<string, unknown>): Role => {
  const result = parseResource({ kind: 'role', version: 'v8', metadata: { name }, spec: { options } }, 'role.yaml');
  if (!result.ok) throw new Error(result.message);
  return result.resource as Role;
};

describe('lock schema', () => {
  it("loads Teleport's documented lock, with version v2 defaulted when absent", () => {
    const parsed = parseResource(
      {
        kind: 'lock',
        metadata: { name: 'x' },
        spec: { target: { role: 'developers' }, message: 'Cluster maintenance.', expires: '2021-06-14T22:27:00Z' },
      },
      'lock.yaml',
    );
    expect(parsed).toMatchObject({ ok: true, kind: 'lock', resource: { version: 'v2', spec: { target: { role: 'developers' } } } });
  });

  it.each<[string, Record<string, unknown>, Record<string, unknown>, string]>([
    ['no target field', { target: {} }, {}, 'spec.target: set at least one of user, role, login or access_request'],
    ['an empty user', { target: { user: '' } }, {}, 'spec.target.user: must not be empty'],
    [
      'a user with a trailing space (it would lock nobody)',
      { target: { user: 'alice ' } },
      {},
      'spec.target.user: target user must not start or end with whitespace; write the exact user name',
    ],
    [
      'a role with a control character',
      { target: { role: 'dev\u001bs' } },
      {},
      'spec.target.role: target role must not contain control characters; write the exact role name',
    ],
    [
      'an access request with a C1 control character',
      { target: { access_request: 'r\u0085' } },
      {},
      'spec.target.access_request: target access_request must not',
    ],
    [
      'a target Kubeport has nothing of',
      { target: { mfa_device: 'u-1' } },
      {},
      'spec.target.mfa_device: target mfa_device is not supported',
    ],
    ['a typo in a target field', { target: { usr: 'alice' } }, {}, 'spec.target'],
    ['expires that is not RFC 3339', { target: { user: 'a' }, expires: 'tomorrow' }, {}, 'spec.expires: write an RFC 3339 time'],
    ['a message too long', { target: { user: 'a' }, message: 'x'.repeat(1025) }, {}, 'spec.message: keep the message under 1024'],
    ['another version', { target: { user: 'a' } }, { version: 'v3' }, 'version: lock version must be v2'],
  ])('refuses %s, naming the field', (_name, spec, extra, message) => {
    const result = parseResource(lockDoc(spec, extra), 'lock.yaml');
    expect(result.ok).toBe(false);
    expect((result as { message: string }).message).toContain(message);
  });
});

describe('which identities a lock names', () => {
  it.each<[string, Record<string, string>, boolean]>([
    ['the user', { user: 'alice' }, true],
    ['another user', { user: 'bob' }, false],
    ['one of the roles in the certificate', { role: 'devs' }, true],
    ['a role the identity does not hold', { role: 'admins' }, false],
    ['one of the logins (trait logins)', { login: 'alice-gh' }, true],
    ['an access request the certificate carries', { access_request: 'req-1' }, true],
    ['several fields, any one matching (Teleport compares each target on its own)', { user: 'bob', role: 'devs' }, true],
    ['several fields, none matching', { user: 'bob', role: 'ops', login: 'root' }, false],
  ])('%s: %s', (_name, target, locked) => {
    expect(lockTargets(parsedLock({ target }), alice)).toBe(locked);
  });

  it('is matched exactly: no globs, no case folding', () => {
    expect(lockTargets(parsedLock({ target: { user: 'ali*' } }), alice)).toBe(false);
    expect(lockTargets(parsedLock({ target: { user: 'Alice' } }), alice)).toBe(false);
  });
});

describe('expiry (injected clock)', () => {
  const lock = parsedLock({ target: { user: 'alice' }, expires: '2026-12-02T10:00:00Z' });
  it('applies until the instant of its expiry and not from then on', () => {
    expect(isInForce(lock, new Date('2026-12-02T09:59:59.999Z'))).toBe(true);
    expect(isInForce(lock, new Date('2026-12-02T10:00:00Z'))).toBe(false);
    expect(lockInForceFor([lock], alice, new Date('2026-12-02T09:00:00Z'))).toBe(lock);
    expect(lockInForceFor([lock], alice, new Date('2026-12-02T11:00:00Z'))).toBeUndefined();
  });
  it('without expires applies until removed', () => {
    expect(isInForce(parsedLock({ target: { user: 'alice' } }), new Date('2999-01-01T00:00:00Z'))).toBe(true);
  });
  it('an expired lock does not hide a later one in force', () => {
    const later = parsedLock({ target: { role: 'devs' }, expires: '2026-12-03T00:00:00Z' });
    expect(lockInForceFor([lock, later], alice, new Date('2026-12-02T12:00:00Z'))).toBe(later);
  });
});

describe("Teleport's words", () => {
  it('names the target as Teleport prints it, then the message', () => {
    expect(lockInForceMessage(parsedLock({ target: { user: 'alice' }, message: 'Suspicious activity.' }))).toBe(
      'lock targeting User:"alice" is in force: Suspicious activity.',
    );
    expect(lockInForceMessage(parsedLock({ target: { role: 'developers' } }))).toBe('lock targeting Role:"developers" is in force');
    expect(describeTarget({ login: 'root', access_request: 'r1' })).toBe('Login:"root" AccessRequest:"r1"');
  });
});

describe('role options', () => {
  it('lock: one strict role makes the identity strict, else the default holds', () => {
    expect(lockingMode([accessRole])).toBe('best_effort');
    expect(lockingMode([accessRole, roleWith('s', { lock: 'strict' })])).toBe('strict');
    expect(lockingMode([roleWith('b', { lock: 'best_effort' })], 'strict')).toBe('strict');
  });

  it('max_kubernetes_connections: the smallest non-zero value wins, with the role that sets it; 0 means none', () => {
    expect(maxKubernetesConnections([accessRole])).toBeUndefined();
    expect(maxKubernetesConnections([roleWith('zero', { max_kubernetes_connections: 0 })])).toBeUndefined();
    expect(
      maxKubernetesConnections([
        roleWith('wide', { max_kubernetes_connections: 10 }),
        roleWith('zero', { max_kubernetes_connections: 0 }),
        roleWith('narrow', { max_kubernetes_connections: 3 }),
      ]),
    ).toEqual({ max: 3, role: 'narrow' });
  });

  it.each<[string, Record<string, unknown>, string]>([
    ['an unknown lock mode', { lock: 'always' }, 'spec.options.lock: write strict or best_effort'],
    ['a fraction of a stream', { max_kubernetes_connections: 1.5 }, 'spec.options.max_kubernetes_connections: write a whole number'],
    ['a negative limit', { max_kubernetes_connections: -1 }, 'write a whole number'],
    ['a limit written as text', { max_kubernetes_connections: 'ten' }, 'write a whole number'],
  ])('refuses %s, naming the field', (_name, options, message) => {
    const result = parseResource({ kind: 'role', version: 'v8', metadata: { name: 'r' }, spec: { options } }, 'role.yaml');
    expect(result.ok).toBe(false);
    expect((result as { message: string }).message).toContain(message);
  });
});
