// CA rotation through the real auth handler: tctl auth rotate and tctl status as the admin, the
// refusals a user without the rule gets, and tsh following the rotation in its profile and kubeconfig.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient, ClientError } from '../../lib/client/api-client.js';
import { run as rotate } from '../../lib/client/commands/tctl-auth-rotate.js';
import { run as tctlStatus } from '../../lib/client/commands/tctl-status.js';
import { run as kubeLs } from '../../lib/client/commands/kube-ls.js';
import { run as tshStatus } from '../../lib/client/commands/tsh-status.js';
import { writeKubeconfig } from '../../lib/client/kube-clusters.js';
import { caFingerprint } from '../../lib/core/ca-fingerprint.js';
import { apiAudience } from '../../lib/core/signed-request.js';
import type { CaStatus } from '../../lib/services/cert-authorities.js';
import { type ClientHarness, loggedInHome, startClientHarness, tctlRun, tshRun } from './client-harness.js';

/** tctl auth rotate as the admin; what it printed. */
async function rotateWithTctl(harness: ClientHarness, options: Parameters<typeof rotate>[0]): Promise<string> {
  const run = tctlRun(harness);
  await rotate(options, run.deps);
  return run.stdout.text();
}

/** GET /webapi/ca as an editor, with a fresh identity. */
async function casAsAdmin(harness: ClientHarness): Promise<CaStatus[]> {
  const admin = await harness.identity({ username: 'kubeport-admin', roles: ['editor'] });
  const api = new ApiClient(harness.proxy, apiAudience(harness.deps.clusterName), harness.clock);
  return (await api.call<{ cas: CaStatus[] }>('GET', '/webapi/ca', undefined, admin)).cas;
}

let suiteHarness: ClientHarness | undefined;

/** A harness with stored CAs for the enclosing describe, and tctl auth rotate and GET /webapi/ca on it. */
function harnessPerSuite() {
  beforeAll(async () => {
    suiteHarness = await startClientHarness({ storedCas: true });
  });
  afterAll(() => suiteHarness?.close());
  return {
    tctl: (options: Parameters<typeof rotate>[0]) => rotateWithTctl(suiteHarness!, options),
    cas: () => casAsAdmin(suiteHarness!),
  };
}

describe('CA rotation from tctl and tsh', () => {
  const { tctl, cas } = harnessPerSuite();
  let harness: ClientHarness;
  beforeAll(() => {
    harness = suiteHarness!;
  });

  it('refuses a user whose roles have no rule on cert_authority: 403 for rotating and for reading', async () => {
    await harness.addUser('bob', { roles: ['access'] });
    const bob = await harness.identity({ username: 'bob', roles: ['access'], connector: 'local' });
    const api = new ApiClient(harness.proxy, apiAudience(harness.deps.clusterName), harness.clock);
    const refusal = (promise: Promise<unknown>) =>
      promise.then(
        () => undefined,
        (e: ClientError) => e,
      );
    const rotating = await refusal(api.call('POST', '/webapi/ca/rotate', { type: 'user', phase: 'init' }, bob));
    expect(rotating?.status).toBe(403);
    expect(rotating?.message).toMatch(/do not allow update on cert_authority; an admin can add a rule/);
    const reading = await refusal(api.call('GET', '/webapi/ca', undefined, bob));
    expect(reading?.status).toBe(403);
    // Unsigned: refused before anything is read.
    const anonymous = await fetch(`http://${harness.proxy}/webapi/ca/rotate`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"type":"user","phase":"init"}',
    });
    expect(anonymous.ok).toBe(false);
    expect(((await anonymous.json()) as { error: { message: string } }).error.message).toMatch(/signed/);
    expect((await cas()).map((ca) => ca.phase)).toEqual(['standby', 'standby']);
  });

  it('says what to run when a phase comes out of order or a flag is missing', async () => {
    await expect(tctl({ type: 'user', phase: 'update_servers' })).rejects.toThrow(
      'the user CA is in phase standby: no rotation is under way; start one with tctl auth rotate --type=user --phase=init',
    );
    await expect(tctl({ type: 'user' })).rejects.toThrow('give --phase=init|update_clients|update_servers|standby, or --manual=false');
    await expect(tctl({ phase: 'init' })).rejects.toThrow('give --type=user or --type=host');
    await expect(tctl({ type: 'user', phase: 'later' })).rejects.toThrow('--phase takes standby, init, update_clients, update_servers');
    await expect(tctl({ type: 'user', manual: 'false', gracePeriod: '1h' })).rejects.toThrow(
      /grace period of 1h is shorter than the longest certificate \(30h\)/,
    );
  });

  it('tctl status shows the fingerprints from ping when reading the CAs is refused (403), and any other failure as it is', async () => {
    // The API answers GET /webapi/ca with `status`; every other call goes through.
    const statusWhenCasAnswer = async (status: number) => {
      const run = tctlRun(harness);
      const admin = run.deps.admin;
      run.deps.admin = async () => {
        const client = await admin();
        return {
          proxy: client.proxy,
          call: <T>(method: string, path: string, body?: unknown) =>
            path === '/webapi/ca'
              ? Promise.reject(new ClientError(`the proxy answered ${status}`, status))
              : client.call<T>(method, path, body),
        };
      };
      await tctlStatus({}, run.deps);
      return run.stdout.text();
    };
    expect(await statusWhenCasAnswer(403)).toMatch(/User CA:\s+SHA256:\S+\nHost CA:\s+SHA256:\S+\n/);
    expect(await statusWhenCasAnswer(404)).toMatch(/User CA:\s+SHA256:\S+\n/);
    await expect(statusWhenCasAnswer(503)).rejects.toThrow('the proxy answered 503');
    await expect(statusWhenCasAnswer(500)).rejects.toThrow('the proxy answered 500');
  });

  it('walks the host CA through every phase, tctl status showing where it is, and tsh following it', async () => {
    await harness.addUser('carol', { roles: ['access'] });
    const home = await loggedInHome(harness, 'carol');
    const run = () => tshRun(harness, home, { caRefreshMs: 300_000 });
    const kubeconfig = join(home, '.kube', 'config');
    const profileDir = join(home, '.tsh');
    const { store } = run().deps;
    const saved = store.load(harness.proxy)!;
    store.saveCas({ ...saved.profile, cas_fetched: harness.clock.now().toISOString() }, saved.keys);
    await writeKubeconfig(run().deps, saved.profile, saved.keys, [{ name: 'dev', labels: {} }]);
    const kubeconfigCa = () => {
      const config = parse(readFileSync(kubeconfig, 'utf8')) as { clusters: { cluster: Record<string, string> }[] };
      return Buffer.from(config.clusters[0]!.cluster['certificate-authority-data']!, 'base64').toString();
    };
    const oldHost = harness.hostCa.certPem;
    expect(kubeconfigCa()).toBe(oldHost);

    expect(await tctl({ type: 'host', phase: 'init' })).toMatch(
      /^The host CA is in phase init; SHA256:\S+ signs\.\nNext: tctl auth rotate --type=host --phase=update_clients\n$/,
    );
    harness.clock.advance(3000);
    const [, host] = await cas();
    expect(host).toMatchObject({ type: 'host', phase: 'init', signing: caFingerprint(oldHost) });
    expect(host!.trusted).toHaveLength(2);

    // Fetched a minute ago: tsh does not ask yet.
    harness.clock.advance(60_000);
    await tshStatus({}, run().deps);
    expect(kubeconfigCa()).toBe(oldHost);
    // Five minutes on, any tsh command reads the CAs again.
    harness.clock.advance(300_000);
    await kubeLs({ format: 'text' }, run().deps);
    const both = kubeconfigCa();
    expect(both.startsWith(oldHost)).toBe(true);
    expect(both).not.toBe(oldHost);
    expect(readFileSync(join(profileDir, 'keys', harness.proxy, 'cas', 'kubeport-test-host.pem'), 'utf8')).toBe(both);

    await tctl({ type: 'host', phase: 'update_clients' });
    expect(await tctl({ type: 'host', phase: 'update_servers' })).toContain('Next: tctl auth rotate --type=host --phase=standby');
    harness.clock.advance(3000);
    const status = tctlRun(harness);
    await tctlStatus({}, status.deps);
    expect(status.stdout.text()).toMatch(/Host CA:\s+SHA256:\S+ \(rotating, phase update_servers\)\nHost CA \(also trusted\):\s+SHA256:/);
    expect(status.stdout.text()).toMatch(/User CA:\s+SHA256:\S+ \(standby\)\n/);

    const done = await tctl({ type: 'host', phase: 'standby' });
    expect(done).toMatch(/^The host CA is in phase standby; SHA256:\S+ signs\.\nThe old key stays trusted until \S+, then retires\.\n$/);
    harness.clock.advance(3000);
    const [, after] = await cas();
    expect(after!.signing).not.toBe(caFingerprint(oldHost));
    expect(after!.trusted).toEqual([after!.signing, caFingerprint(oldHost)]);
    expect(after!.old_key_retires).toBeDefined();
    // Once every certificate of the old key has expired, tsh's next refresh drops it.
    harness.clock.set(new Date(Date.parse(after!.old_key_retires!) + 1000));
    await tshStatus({}, run().deps).catch(() => undefined);
    await kubeLs({ format: 'text' }, run().deps).catch(() => undefined);
    expect((await cas())[1]!.trusted).toEqual([after!.signing]);
  });
});

describe('an automatic CA rotation from tctl', () => {
  const { tctl, cas } = harnessPerSuite();
  let harness: ClientHarness;
  beforeAll(() => {
    harness = suiteHarness!;
  });

  it('rotates automatically with --manual=false: tctl says when each phase comes, and the new key signs only after clients had hours to fetch it', async () => {
    const before = (await cas())[0]!;
    expect(await tctl({ type: 'user', manual: 'false', gracePeriod: '30h' })).toMatch(
      /^The user CA is in phase init; SHA256:\S+ signs\.\nIt moves to update_clients at \S+ on its own; tctl status shows where it is\.\n$/,
    );
    harness.clock.advance(3000);
    const status = tctlRun(harness);
    await tctlStatus({}, status.deps);
    expect(status.stdout.text()).toMatch(/User CA:\s+SHA256:\S+ \(rotating automatically, phase init; update_clients at \S+\)\n/);
    const [init] = await cas();
    expect(init).toMatchObject({ phase: 'init', signing: before.signing, next_phase: { phase: 'update_clients' } });
    harness.clock.set(new Date(Date.parse(init!.next_phase!.at) + 3000));
    expect((await cas())[0]).toMatchObject({ phase: 'update_clients', signing: before.signing });
    harness.clock.advance(3 * 3_600_000);
    const [servers] = await cas();
    expect(servers).toMatchObject({ phase: 'update_servers', next_phase: { phase: 'standby' } });
    expect(servers!.signing).not.toBe(before.signing);
    expect(servers!.trusted).toEqual([servers!.signing, before.signing]);
    harness.clock.advance(3 * 3_600_000);
    expect((await cas())[0]).toMatchObject({ phase: 'standby', signing: servers!.signing, trusted: [servers!.signing, before.signing] });
  });
});
