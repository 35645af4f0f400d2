// CA rotation end to end in local mode, with the real npm start, tctl, tsh and kubectl: a login
// made before a user CA rotation works through every phase; logins after update_servers chain to
// the new CA; kubectl keeps reaching the agent across a host CA rotation because tsh refreshed the
// kubeconfig's CA data; a user without the rule cannot rotate.
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliPath, node, run } from '../support/cli.js';
import { type LocalModeProcess, addKubeUser, startLocalModeProcess, userShellEnv } from '../support/local-mode-process.js';

describe('CA rotation in local mode, end to end', { timeout: 120_000 }, () => {
  let dir: string;
  let dataDir: string;
  let local: LocalModeProcess;
  let alice: NodeJS.ProcessEnv;

  const tctl = (...args: string[]) => node(cliPath('tctl'), [`--data-dir=${dataDir}`, ...args]);
  const rotate = async (type: 'user' | 'host', phase: string) => {
    const result = await tctl('auth', 'rotate', `--type=${type}`, `--phase=${phase}`);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain(`The ${type} CA is in phase ${phase}`);
  };
  const kubectl = (env: NodeJS.ProcessEnv, ...args: string[]) => run('kubectl', args, { env, cwd: env.HOME! });
  const getPods = async (env: NodeJS.ProcessEnv) => {
    const result = await kubectl(env, 'get', 'pods', '-o', 'name');
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    return result.stdout;
  };
  // The API reads the CAs with a cache of a few seconds: a change shows within it.
  const pingShows = async (type: 'user' | 'host', count: number) => {
    await expect.poll(async () => (await ping()).ca[type].length, { timeout: 10_000 }).toBe(count);
    return (await ping()).ca[type];
  };
  const ping = async () => (await (await fetch(`http://${local.proxy}/webapi/ping`)).json()) as { ca: { user: string[]; host: string[] } };
  const signedBy = (certPem: string, caPem: string) => new X509Certificate(certPem).verify(new X509Certificate(caPem).publicKey);
  const loginCert = (env: NodeJS.ProcessEnv, user: string) => readFileSync(join(env.TSH_HOME!, 'keys', local.proxy, `${user}.crt`), 'utf8');
  const agentCert = () =>
    new Promise<string>((resolve, reject) => {
      const [host, port] = local.agent.split(':');
      const socket = tls.connect({ host, port: Number(port), servername: 'localhost', rejectUnauthorized: false }, () => {
        const der = socket.getPeerCertificate().raw;
        socket.destroy();
        resolve(new X509Certificate(der).toString());
      });
      socket.on('error', reject);
    });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kubeport-rotation-'));
    dataDir = join(dir, 'data');
    local = await startLocalModeProcess({ dataDir, extraArgs: ['--demo'], env: userShellEnv(join(dir, 'server')) });
    // Alice's tsh reads the CAs again at every command, not every five minutes, so the test need not wait.
    alice = { ...userShellEnv(join(dir, 'alice')), TSH_CA_REFRESH: '0s' };
    await addKubeUser(local, dataDir, alice, 'alice');
  });
  afterAll(async () => {
    await local?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses to let a user without the rule on cert_authority rotate', async () => {
    // Alice's own login as a tctl identity: signed by her, allowed what her role (access) allows.
    const identity = join(dir, 'alice-identity.json');
    const cert = loginCert(alice, 'alice');
    const key = readFileSync(join(alice.TSH_HOME!, 'keys', local.proxy, 'alice.key'), 'utf8');
    writeFileSync(identity, JSON.stringify({ proxy: local.proxy, user: 'alice', cert, key }), { mode: 0o600 });
    const refused = await node(cliPath('tctl'), [`--identity=${identity}`, 'auth', 'rotate', '--type=user', '--phase=init']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/do not allow update on cert_authority; an admin can add a rule/);
    expect((await ping()).ca.user).toHaveLength(1);
  });

  it('keeps a login made before a user CA rotation working through every phase; logins after update_servers chain to the new CA', async () => {
    const [oldUserCa] = (await ping()).ca.user;
    const aliceCert = loginCert(alice, 'alice');
    expect(signedBy(aliceCert, oldUserCa!)).toBe(true);
    const pods = await getPods(alice);
    expect(pods).toContain('pod/');

    await rotate('user', 'init');
    const [, newUserCa] = await pingShows('user', 2);
    expect(newUserCa).toBeDefined();
    expect(await getPods(alice)).toBe(pods);
    await rotate('user', 'update_clients');
    expect(await getPods(alice)).toBe(pods);
    await rotate('user', 'update_servers');
    expect(await getPods(alice)).toBe(pods);
    // The server reads its CAs behind a cache of seconds: the new key signs once ping lists it first.
    await expect.poll(async () => (await ping()).ca.user[0], { timeout: 10_000 }).toBe(newUserCa);

    const bob = userShellEnv(join(dir, 'bob'));
    await addKubeUser(local, dataDir, bob, 'bob');
    const bobCert = loginCert(bob, 'bob');
    expect(signedBy(bobCert, newUserCa!)).toBe(true);
    expect(signedBy(bobCert, oldUserCa!)).toBe(false);
    // The agent trusts the new CA since init (it re-reads its CAs every few seconds).
    await expect.poll(async () => (await kubectl(bob, 'get', 'pods', '-o', 'name')).stdout, { timeout: 15_000 }).toBe(pods);

    await rotate('user', 'standby');
    expect((await ping()).ca.user).toEqual([newUserCa, oldUserCa]);
    // The old key stays trusted until every certificate it signed has expired, Alice's included.
    expect(await getPods(alice)).toBe(pods);
    expect(loginCert(alice, 'alice')).toBe(aliceCert);
    const status = await tctl('status');
    expect(status.stdout).toMatch(
      /User CA:\s+SHA256:\S+ \(standby\)\nUser CA \(also trusted\):\s+SHA256:\S+\nUser CA old key retires:\s+\S+/,
    );
  });

  it('keeps kubectl working across a host CA rotation because tsh refreshed the kubeconfig, and not without', async () => {
    // Carol logged in before the rotation and runs no tsh command during it (her refresh is five minutes).
    const carol = userShellEnv(join(dir, 'carol'));
    await addKubeUser(local, dataDir, carol, 'carol');
    const kubeconfigCa = (env: NodeJS.ProcessEnv) => {
      const config = parse(readFileSync(env.KUBECONFIG!, 'utf8')) as { clusters: { cluster: Record<string, string> }[] };
      return Buffer.from(config.clusters[0]!.cluster['certificate-authority-data']!, 'base64').toString();
    };
    const [oldHostCa] = (await ping()).ca.host;
    expect(signedBy(await agentCert(), oldHostCa!)).toBe(true);

    await rotate('host', 'init');
    const [, newHostCa] = await pingShows('host', 2);
    // Alice's kubectl runs tsh (the exec plugin), which reads the CAs and writes both into her kubeconfig.
    const pods = await getPods(alice);
    expect(kubeconfigCa(alice)).toBe(`${oldHostCa}\n${newHostCa}`);
    expect(kubeconfigCa(carol)).toBe(oldHostCa);
    await rotate('host', 'update_clients');
    expect(await getPods(alice)).toBe(pods);

    await rotate('host', 'update_servers');
    // The agent takes a certificate from the new host CA within seconds.
    await expect.poll(async () => signedBy(await agentCert(), newHostCa!), { timeout: 15_000 }).toBe(true);
    expect(await getPods(alice)).toBe(pods);
    const stale = await kubectl(carol, 'get', 'pods', '-o', 'name');
    expect(stale.code).not.toBe(0);
    expect(stale.stderr).toMatch(/certificate signed by unknown authority/);

    await rotate('host', 'standby');
    expect(await getPods(alice)).toBe(pods);
    expect(kubeconfigCa(alice)).toBe(`${newHostCa}\n${oldHostCa}`);
  });
});
