// The github kind, team mapping, redaction, client redirect rules and the sealed client response.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { checkClientRedirect } from '../../lib/core/client-redirect.js';
import { openForClient, sealForClient } from '../../lib/core/client-seal.js';
import { connectorEndpoints, mapTeams } from '../../lib/core/github-connector.js';
import type { GitHubConnector } from '../../lib/core/github-connector.js';
import { redactResource } from '../../lib/core/resource-redaction.js';
import { parseResource } from '../../lib/core/resources.js';

// Teleport's own example (docs: GitHub SSO), unchanged.
const teleportExample = {
  kind: 'github',
  version: 'v3',
  metadata: { name: 'github' },
  spec: {
    client_id: 'client-id',
    client_secret: 'client-secret',
    display: 'GitHub',
    redirect_url: 'https://teleport.example.com:443/v1/webapi/github/callback',
    teams_to_roles: [{ organization: 'octocats', team: 'admins', roles: ['access', 'editor'] }],
  },
};

describe('github connector', () => {
  it("loads Teleport's example and defaults the endpoints to github.com", () => {
    const parsed = parseResource(teleportExample);
    expect(parsed.ok).toBe(true);
    const connector = (parsed as { resource: GitHubConnector }).resource;
    expect(connectorEndpoints(connector)).toEqual({ endpointUrl: 'https://github.com', apiEndpointUrl: 'https://api.github.com' });
  });

  it('loads what tctl sso configure github writes (empty endpoints, null teams_to_logins) with the defaults', () => {
    const parsed = parseResource({
      ...teleportExample,
      spec: { ...teleportExample.spec, api_endpoint_url: '', endpoint_url: '', teams_to_logins: null },
    });
    expect(parsed.ok).toBe(true);
    expect(connectorEndpoints((parsed as { resource: GitHubConnector }).resource)).toEqual({
      endpointUrl: 'https://github.com',
      apiEndpointUrl: 'https://api.github.com',
    });
  });

  it.each([
    [{ ...teleportExample.spec, client_id: undefined }, 'spec.client_id'],
    [{ ...teleportExample.spec, teams_to_roles: [] }, 'map at least one team'],
    [{ ...teleportExample.spec, endpoint_url: 'http://github.example.com' }, 'use an https:// URL'],
    [{ ...teleportExample.spec, teams_to_role: [] }, 'teams_to_role'],
  ])('refuses a bad spec with a message naming the field (%#)', (spec, message) => {
    const parsed = parseResource({ ...teleportExample, spec });
    expect(parsed.ok).toBe(false);
    expect((parsed as { message: string }).message).toContain(message);
  });

  it('maps teams by exact organization and team slug, legacy teams_to_logins included', () => {
    const connector = parseResource({
      ...teleportExample,
      spec: {
        ...teleportExample.spec,
        teams_to_logins: [{ organization: 'octocats', team: 'devs', logins: ['access'], kubernetes_groups: ['system:masters'] }],
      },
    });
    const c = (connector as { resource: GitHubConnector }).resource;
    const teams = [
      { organization: 'octocats', slug: 'devs', name: 'Devs' },
      { organization: 'Octocats', slug: 'admins', name: 'Admins' },
      { organization: 'octocats', slug: 'admins-2', name: 'Admins 2' },
    ];
    expect(mapTeams(c, 'mona', teams)).toEqual({
      roles: ['access'],
      traits: {
        github_teams: ['octocats/devs', 'Octocats/admins', 'octocats/admins-2'],
        logins: ['mona'],
        kubernetes_groups: ['system:masters'],
        kubernetes_users: [],
      },
    });
  });

  it('redacts the client secret, sealed or not, and leaves other kinds alone', () => {
    const stored = { ...teleportExample, spec: { ...teleportExample.spec, client_secret_sealed: 'v1.x.y.z' } };
    const shown = redactResource('github', stored) as { spec: Record<string, unknown> };
    expect(shown.spec).not.toHaveProperty('client_secret');
    expect(shown.spec).not.toHaveProperty('client_secret_sealed');
    expect(shown.spec.client_id).toBe('client-id');
    const role = { kind: 'role', spec: { client_secret: 'not a secret here' } };
    expect(redactResource('role', role)).toBe(role);
  });
});

describe('client redirect (ValidateClientRedirect)', () => {
  const key = 'a'.repeat(64);
  it.each([
    `http://127.0.0.1:5555/callback?secret_key=${key}`,
    `http://localhost:5555/callback?secret_key=${key}`,
    `http://[::1]:5555/callback?secret_key=${key}`,
  ])('accepts the loopback URL tsh sends: %s', (url) => {
    expect(checkClientRedirect(url)).toMatchObject({ ok: true, secretKey: key });
  });

  it.each([
    [`http://evil.example.com:5555/callback?secret_key=${key}`, 'http only for localhost'],
    [`http://127.0.0.2:5555/callback?secret_key=${key}`, 'http only for localhost'],
    [`http://127.0.0.1.nip.io/callback?secret_key=${key}`, 'http only for localhost'],
    [`http://localhost.:5555/callback?secret_key=${key}`, 'http only for localhost'],
    [`https://evil.example.com/callback?secret_key=${key}`, 'allowed_https_hostnames'],
    [`http://127.0.0.1@evil.example.com/callback?secret_key=${key}`, 'user name'],
    [`http://user:pw@127.0.0.1:5555/callback?secret_key=${key}`, 'user name'],
    [`http://evil.example.com#@127.0.0.1/callback?secret_key=${key}`, 'user name'],
    [`http://127.0.0.1:5555/callback?secret_key=${key}#x`, 'fragment'],
    [`http://127.0.0.1:5555/other?secret_key=${key}`, 'path /callback'],
    [`http://127.0.0.1:5555/callback/?secret_key=${key}`, 'path /callback'],
    [`http://127.0.0.1:5555/%63allback?secret_key=${key}`, 'path /callback'],
    [`http://127.0.0.1:5555/callback?secret_key=${key}&x=1`, 'exactly one query parameter'],
    [`http://127.0.0.1:5555/callback?secret_key=${key}&secret_key=${key}`, 'exactly one query parameter'],
    ['http://127.0.0.1:5555/callback', 'exactly one query parameter'],
    ['http://127.0.0.1:5555/callback?secret_key=abc', '64 lowercase hex'],
    [`javascript://127.0.0.1/callback?secret_key=${key}`, 'must use http'],
    [`file:///callback?secret_key=${key}`, 'must use http'],
    ['not a url', 'is not a URL'],
    [`http://127.0.0.1:5555/callback?secret_key=${'a'.repeat(3000)}`, 'longer than'],
  ])('refuses %s', (url, message) => {
    const result = checkClientRedirect(url);
    expect(result.ok).toBe(false);
    expect((result as { message: string }).message).toContain(message);
    expect((result as { message: string }).message).toContain('tsh sends http://127.0.0.1:PORT/callback');
  });

  it('accepts https only for listed host names on port 443, and http for listed IPv4 ranges', () => {
    const settings = { allowed_https_hostnames: ['*.corp.example.com'], insecure_allowed_cidr_ranges: ['10.0.0.0/8'] };
    expect(checkClientRedirect(`https://laptop.corp.example.com/callback?secret_key=${key}`, settings).ok).toBe(true);
    expect(checkClientRedirect(`https://laptop.corp.example.com:8443/callback?secret_key=${key}`, settings).ok).toBe(false);
    expect(checkClientRedirect(`https://corp.example.com.evil.io/callback?secret_key=${key}`, settings).ok).toBe(false);
    expect(checkClientRedirect(`http://10.1.2.3:4000/callback?secret_key=${key}`, settings).ok).toBe(true);
    expect(checkClientRedirect(`http://11.1.2.3:4000/callback?secret_key=${key}`, settings).ok).toBe(false);
  });
});

describe('sealed client response', () => {
  const key = randomBytes(32).toString('hex');
  const sealed = sealForClient(key, '{"username":"mona"}', randomBytes(12));

  it('opens with the key of the login it was sealed for', () => {
    expect(openForClient(key, sealed)).toBe('{"username":"mona"}');
  });

  it('refuses a flipped byte anywhere in the ciphertext or tag, a changed nonce, and another key', () => {
    const bytes = Buffer.from(sealed.ciphertext, 'base64');
    for (const index of [0, bytes.length - 1, bytes.length - 17]) {
      const tampered = Buffer.from(bytes);
      tampered[index]! ^= 0x01;
      expect(() => openForClient(key, { ...sealed, ciphertext: tampered.toString('base64') })).toThrow(/does not open/);
    }
    const nonce = Buffer.from(sealed.nonce, 'base64');
    nonce[0]! ^= 0x80;
    expect(() => openForClient(key, { ...sealed, nonce: nonce.toString('base64') })).toThrow(/does not open/);
    expect(() => openForClient(randomBytes(32).toString('hex'), sealed)).toThrow(/does not open/);
  });
});
