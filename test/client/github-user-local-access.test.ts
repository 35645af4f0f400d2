// A GitHub user's access follows their GitHub teams: an admin cannot give them an invite or a
// password (which would outlive a removal from the team), and credentials or invites they hold
// from before (made before this rule) open nothing. tctl and tsh in this process, real API.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient, type ClientError } from '../../lib/client/api-client.js';
import { writeFileSync } from 'node:fs';
import { run as create } from '../../lib/client/commands/tctl-create.js';
import { run as usersAdd } from '../../lib/client/commands/tctl-users-add.js';
import { run as usersReset } from '../../lib/client/commands/tctl-users-reset.js';
import { run as usersUpdate } from '../../lib/client/commands/tctl-users-update.js';
import { run as login } from '../../lib/client/commands/tsh-login.js';
import { newKeyPair } from '../../lib/client/login.js';
import { hashPassword } from '../../lib/core/password.js';
import type { User } from '../../lib/core/resources.js';
import { newTotpSecret, totpCode, totpStep } from '../../lib/core/totp.js';
import { LocalInvites } from '../../lib/services/local-invites.js';
import { browse } from '../support/scripted-browser.js';
import { tctlRun, tshRun } from './client-harness.js';
import { type GitHubHarness, startGitHubHarness } from './github-harness.js';
import { searchEvents } from '../support/audit-events.js';

const PASSWORD = 'correct horse battery staple';

describe('a GitHub user gets no local access', () => {
  let h: GitHubHarness;
  let api: ApiClient;
  const failure = (promise: Promise<unknown>) =>
    promise.then(
      () => {
        throw new Error('expected a refusal');
      },
      (e: ClientError) => e,
    );

  beforeAll(async () => {
    h = await startGitHubHarness();
    api = new ApiClient(h.proxy);
    // octocat signs in with GitHub once: the user exists, made by the connector.
    const tsh = tshRun(h, mkdtempSync(join(tmpdir(), 'kubeport-tsh-')), { openBrowser: (url) => void browse(url) });
    await login({ proxy: h.proxy }, tsh.deps);
    expect(tsh.stdout.text()).toContain('Logged in as:       octocat');
  });
  afterAll(() => h?.close());

  it('tctl users reset refuses a GitHub user, naming the connector, and changes nothing', async () => {
    const before = await h.deps.resources.get<User>('user', 'octocat');
    const error = await failure(usersReset({ name: 'octocat' }, tctlRun(h).deps));
    expect(error.message).toContain('user octocat signs in with GitHub connector github and their access follows their GitHub teams');
    expect(error.message).not.toContain('--invite');
    expect((await h.deps.resources.get<User>('user', 'octocat'))!.body).toEqual(before!.body);
  });

  it('tctl users update refuses a GitHub user, whose next login would undo it, and changes nothing', async () => {
    const before = await h.deps.resources.get<User>('user', 'octocat');
    const error = await failure(usersUpdate({ name: 'octocat', roles: ['editor'] }, tctlRun(h).deps));
    expect(error.message).toContain('user octocat signs in with GitHub connector github, which sets their roles');
    expect((await h.deps.resources.get<User>('user', 'octocat'))!.body).toEqual(before!.body);
  });

  it('tctl users add of an existing GitHub user does not suggest reset', async () => {
    const error = await failure(
      usersAdd({ name: 'octocat', roles: ['access'], kubernetesGroups: [], kubernetesUsers: [] }, tctlRun(h).deps),
    );
    expect(error.message).toContain('user octocat already exists and signs in with GitHub connector github');
    expect(error.message).not.toContain('users reset');
  });

  it('a password held from before opens nothing: local login fails like any failed login, and is audited', async () => {
    const user = (await h.deps.resources.get<User>('user', 'octocat'))!.body;
    const secret = newTotpSecret(h.deps.random);
    await h.deps.resources.put('local_credentials', 'octocat', {
      password_hash: await hashPassword(PASSWORD, h.deps.random),
      totp_secret_sealed: await h.deps.secrets.seal(secret),
      last_totp_step: 0,
      incarnation: user.spec.created_by?.incarnation,
    });
    const error = await failure(
      api.call('POST', '/webapi/local/login', {
        user: 'octocat',
        password: PASSWORD,
        totp_code: totpCode(secret, totpStep(h.clock.now())),
        public_key: newKeyPair().publicKeyPem,
      }),
    );
    const unknown = await failure(
      api.call('POST', '/webapi/local/login', {
        user: 'nobody',
        password: PASSWORD,
        totp_code: '123456',
        public_key: newKeyPair().publicKeyPem,
      }),
    );
    expect(error.status).toBe(unknown.status);
    expect(error.message).toBe(unknown.message);
    const events = await searchEvents(h.deps.audit, {
      from: new Date(h.clock.now().getTime() - 3_600_000),
      to: new Date(h.clock.now().getTime() + 1000),
      event: 'user.login',
      user: 'octocat',
    });
    expect(
      events.some((e) => (e as { success?: boolean; method?: string }).success === false && (e as { method?: string }).method === 'local'),
    ).toBe(true);
  });

  it('an invite made from before opens nothing', async () => {
    const user = (await h.deps.resources.get<User>('user', 'octocat'))!.body;
    const { token } = await new LocalInvites(h.deps).create('octocat', user.spec.created_by?.incarnation);
    const error = await failure(api.call('POST', '/webapi/local/invite/totp', { user: 'octocat', invite: token }));
    expect(error.message).toContain('invite is invalid, expired or already used');
  });
});

describe('reserved names', () => {
  let h: GitHubHarness;
  beforeAll(async () => {
    h = await startGitHubHarness();
  });
  afterAll(() => h?.close());

  it('tctl create refuses a connector named builtin or local (builtin certificates would escape revocation)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kubeport-reserved-'));
    for (const name of ['builtin', 'local']) {
      const file = join(dir, `${name}.yaml`);
      writeFileSync(
        file,
        `kind: github\nversion: v3\nmetadata:\n  name: ${name}\nspec:\n  client_id: x\n  client_secret: y\n  redirect_url: https://kubeport.example.com/webapi/github/callback\n  teams_to_roles:\n    - {organization: acme, team: devs, roles: [access]}\n`,
      );
      const run = tctlRun(h);
      const error = await create({ file, force: true }, run.deps).then(
        () => new Error('expected a refusal'),
        (e: Error) => e,
      );
      expect(error.message + run.stderr.text()).toContain('builtin, local and aws-iam are reserved connector names');
      expect(await h.deps.resources.get('github', name)).toBeUndefined();
    }
  });

  it('GitHub login as the login kubeport-admin is refused and makes no user', async () => {
    h.github.addUser({ id: 4242, login: 'kubeport-admin', teams: [{ organization: 'acme', slug: 'devs', name: 'Devs' }] });
    h.github.signedIn = 4242;
    const tsh = tshRun(h, mkdtempSync(join(tmpdir(), 'kubeport-tsh-')), { openBrowser: (url) => void browse(url) });
    const error = await login({ proxy: h.proxy }, tsh.deps).then(
      () => new Error('expected a refusal'),
      (e: Error) => e,
    );
    expect(error.message + tsh.stderr.text()).toContain('kubeport-admin is the name of the local admin identity and reserved');
    expect(await h.deps.resources.get('user', 'kubeport-admin')).toBeUndefined();
  });
});
