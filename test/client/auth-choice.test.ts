// Which login tsh login makes, from --auth, --user/--invite, the last login and ping's default;
// and the one-line refusals for combinations that cannot work.
import { describe, expect, it } from 'vitest';
import { type AuthFlags, chooseAuth } from '../../lib/client/auth-choice.js';
import type { Ping, PingAuth } from '../../lib/client/login.js';

const base: Omit<Ping, 'auth'> = {
  cluster_name: 'kubeport-test',
  server_version: 'test',
  server_time: '2026-12-02T00:00:00Z',
  proxy: { kube: { enabled: true, public_addr: '127.0.0.1:3026' } },
  ca: { user: ['CA'], host: ['CA'] },
};

const githubDefault: PingAuth = {
  type: 'github',
  github: { name: 'github', display: 'GitHub' },
  connectors: [
    { type: 'local', name: 'local' },
    { type: 'github', name: 'github', display: 'GitHub' },
    { type: 'github', name: 'corp', display: 'GitHub Enterprise' },
  ],
  allow_headless: true,
};
const localOnly: PingAuth = { type: 'local', connectors: [{ type: 'local', name: 'local' }], allow_headless: true };
// A proxy from before connectors were listed.
const legacy = { type: 'local' } as PingAuth;

const ping = (auth: PingAuth): Ping => ({ ...base, auth });

describe('chooseAuth', () => {
  const cases: Array<[string, AuthFlags, PingAuth, string | undefined, string]> = [
    ['the proxy default is GitHub', {}, githubDefault, undefined, 'github:github'],
    ['the proxy default is local', {}, localOnly, undefined, 'local'],
    ['an old proxy without connectors', {}, legacy, undefined, 'local'],
    ['--auth=local on a GitHub proxy', { auth: 'local' }, githubDefault, undefined, 'local'],
    ['--auth=github picks the default GitHub connector', { auth: 'github' }, githubDefault, 'corp', 'github:github'],
    ['--auth=<connector name>', { auth: 'corp' }, githubDefault, undefined, 'github:corp'],
    ['--invite means local', { invite: 'tok' }, githubDefault, 'github', 'local'],
    ['--user means local', { user: 'alice' }, githubDefault, 'github', 'local'],
    ['the last login used a connector', {}, githubDefault, 'corp', 'github:corp'],
    ['the last login was local', {}, githubDefault, 'local', 'local'],
    ['the last login used a connector that is gone', {}, githubDefault, 'removed', 'github:github'],
    ['--headless on a GitHub proxy', { headless: true }, githubDefault, undefined, 'github:github'],
    ['--headless after a local login', { headless: true }, githubDefault, 'local', 'local!'],
  ];
  it.each(cases)('%s', (_, flags, auth, remembered, expected) => {
    const run = () => {
      const choice = chooseAuth(flags, ping(auth), remembered);
      return choice.kind === 'local' ? 'local' : `github:${choice.connector.name}`;
    };
    if (expected.endsWith('!')) expect(run).toThrow('--headless works with GitHub login only; add --auth=github');
    else expect(run()).toBe(expected);
  });

  it('names the connectors the proxy offers, in one line, for an unknown --auth', () => {
    expect(() => chooseAuth({ auth: 'okta' }, ping(githubDefault))).toThrow(
      '--auth=okta: this proxy has no such connector; choose one of: local, github (GitHub), corp (GitHub Enterprise)',
    );
    expect(() => chooseAuth({ auth: 'github' }, ping(localOnly))).toThrow(
      '--auth=github: this proxy has no GitHub connector; it offers: local',
    );
  });

  it('refuses flags of the other kind of login', () => {
    expect(() => chooseAuth({ auth: 'github', invite: 'tok' }, ping(githubDefault))).toThrow('--invite is for local users');
    expect(() => chooseAuth({ auth: 'github', user: 'alice' }, ping(githubDefault))).toThrow(
      '--user names a local user; GitHub login names you by your GitHub account',
    );
    expect(() => chooseAuth({ headless: true }, ping(localOnly))).toThrow(
      '--headless works with GitHub login only; this proxy offers only local, so log in without --headless',
    );
    expect(() => chooseAuth({ headless: true }, ping({ ...githubDefault, allow_headless: false }))).toThrow(
      'this proxy does not allow headless login; drop --headless to log in with a browser',
    );
  });
});
