// The README's walkthrough, end to end, with the real kubectl: npm start, tctl users add,
// tsh login with the invite, kubectl through the agent, and the ways it must refuse.
import { mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { X509Certificate } from 'node:crypto';
import { parse, stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileSigner } from '../../lib/adapters/local/file-signer.js';
import { systemRandom } from '../../lib/adapters/system.js';
import { issueUserCertificate } from '../../lib/core/certificate-authority.js';
import { cliPath, codeFor, node, run, tshEnroll } from '../support/cli.js';
import { type KubeApiServer, headerValues, startKubeApiServer } from '../../lib/demo/kube-apiserver.js';
import { type LocalModeProcess, startLocalModeProcess } from '../support/local-mode-process.js';

const PASSWORD = 'correct horse battery staple';

interface Person {
  env: NodeJS.ProcessEnv;
  home: string;
  kubeconfig: string;
}

describe('local mode, end to end with the real kubectl', { timeout: 90_000 }, () => {
  let kube: KubeApiServer;
  let local: LocalModeProcess;
  let dir: string;
  let dataDir: string;
  let sourceKubeconfig: string;
  let alice: Person;
  let aliceSecret: string;
  let firstProxy: string;

  const person = (name: string): Person => {
    const home = join(dir, name);
    const kubeconfig = join(home, '.kube', 'config');
    return {
      home,
      kubeconfig,
      env: { ...process.env, HOME: home, TSH_HOME: join(home, '.tsh'), KUBECONFIG: kubeconfig, KUBECACHEDIR: join(home, 'cache') },
    };
  };
  const tctl = (...args: string[]) => node(cliPath('tctl'), [`--data-dir=${dataDir}`, ...args]);
  const tsh = (who: Person, ...args: string[]) => node(cliPath('tsh'), args, { env: who.env });
  // From the user's home, not the repository: the exec plugin must work from any directory.
  const kubectl = (who: Person, ...args: string[]) => run('kubectl', args, { env: who.env, cwd: who.home });
  const addUser = async (name: string, ...flags: string[]) => {
    const added = await tctl('users', 'add', name, ...flags);
    expect(added.stderr).toBe('');
    const invite = /--invite=(\S+)/.exec(added.stdout)?.[1];
    expect(invite, added.stdout).toBeDefined();
    return invite!;
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kubeport-e2e-'));
    dataDir = join(dir, 'data');
    kube = await startKubeApiServer({ rbac: { devs: ['*'], interns: ['default'] } });
    const agentCert = await kube.issueClientCert('kubeport-agent');
    sourceKubeconfig = join(dir, 'source-kubeconfig.yaml');
    const cluster = { server: kube.url, 'certificate-authority-data': Buffer.from(kube.caPem).toString('base64') };
    const user = {
      'client-certificate-data': Buffer.from(agentCert.certPem).toString('base64'),
      'client-key-data': Buffer.from(agentCert.keyPem).toString('base64'),
    };
    writeFileSync(
      sourceKubeconfig,
      stringify({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [{ name: 'standin', cluster }],
        users: [{ name: 'agent', user }],
        contexts: [
          { name: 'dev', context: { cluster: 'standin', user: 'agent' } },
          { name: 'arn:aws:eks:eu-west-1:111122223333:cluster/Prod', context: { cluster: 'standin', user: 'agent' } },
        ],
        'current-context': 'dev',
      }),
    );
    local = await startLocalModeProcess({
      dataDir,
      kubeconfig: sourceKubeconfig,
      extraArgs: ['--cluster-labels', 'dev:env=dev', '--cluster-labels', 'prod:env=prod,team=payments'],
    });
    alice = person('alice');
  });

  afterAll(async () => {
    await local?.stop();
    await kube?.close();
  });

  it('prints what runs where and the next command', () => {
    expect(local.output()).toContain(`agent         https://${local.agent}`);
    expect(local.output()).toMatch(
      /clusters\s+dev \[env=dev\], prod \[env=prod,team=payments,kubeconfig-context=arn:aws:eks:eu-west-1:111122223333:cluster\/Prod\]/,
    );
    expect(local.output()).toContain('npx tctl users add alice');
    expect(statSync(dataDir).mode & 0o777).toBe(0o700);
    expect(statSync(join(dataDir, 'admin-identity.json')).mode & 0o777).toBe(0o600);
    expect(statSync(join(dataDir, 'user-ca.key')).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(dataDir, '.gitignore'), 'utf8')).toContain('*');
  });

  it('tctl users add, then tsh login with the invite, sets up kubectl and leaves other entries alone', async () => {
    mkdirSync(join(alice.home, '.kube'), { recursive: true });
    writeFileSync(
      alice.kubeconfig,
      stringify({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [{ name: 'other', cluster: { server: 'https://other.example:6443' } }],
        users: [{ name: 'other', user: { token: 'other-token' } }],
        contexts: [{ name: 'other', context: { cluster: 'other', user: 'other' } }],
        'current-context': 'other',
      }),
    );
    const invite = await addUser('alice', '--roles=access', '--kubernetes-groups=devs');
    const login = await tshEnroll(alice.env, local.proxy, 'alice', invite, PASSWORD);
    expect(login.code, login.stderr).toBe(0);
    expect(login.stderr).toContain('otpauth://totp/');
    expect(login.stdout).toContain('Logged in as:       alice');
    aliceSecret = login.secret!;

    const config = parse(readFileSync(alice.kubeconfig, 'utf8'));
    expect(config.contexts.map((c: { name: string }) => c.name).sort()).toEqual(['kubeport-local-dev', 'kubeport-local-prod', 'other']);
    expect(config.users.find((u: { name: string }) => u.name === 'other').user).toEqual({ token: 'other-token' });
    const dev = config.clusters.find((c: { name: string }) => c.name === 'kubeport-local-dev').cluster;
    expect(dev.server).toBe(`https://${local.agent}/k8s/dev`);
    const exec = config.users.find((u: { name: string }) => u.name === 'kubeport-local-dev').user.exec;
    expect(exec).toMatchObject({
      apiVersion: 'client.authentication.k8s.io/v1',
      command: process.execPath,
      interactiveMode: 'IfAvailable',
    });
    expect(exec.args[0]).toBe(cliPath('tsh'));
    const keyFile = join(alice.home, '.tsh', 'keys', local.proxy, 'alice.key');
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
  });

  it('kubectl get pods, get ns and auth whoami work through the agent as alice', async () => {
    const pods = await kubectl(alice, 'get', 'pods', '-n', 'default');
    expect(pods.stderr).toBe('');
    expect(pods.stdout).toMatch(/web-0\s+1\/1\s+Running/);
    const namespaces = await kubectl(alice, 'get', 'ns');
    expect(namespaces.stdout).toMatch(/kube-system/);
    const whoami = await kubectl(alice, 'auth', 'whoami');
    expect(whoami.stdout).toMatch(/Username\s+alice/);
    expect(whoami.stdout).toMatch(/Groups\s+\[devs system:authenticated\]/);
    const upstream = kube.requests.filter((r) => r.path.startsWith('/apis/authentication.k8s.io')).at(-1)!;
    expect(upstream.authenticated?.username).toBe('kubeport-agent');
    expect(headerValues(upstream, 'impersonate-user')).toEqual(['alice']);
    expect(headerValues(upstream, 'authorization')).toEqual([]);
  });

  it('kubectl get -w and logs -f stream through the agent until the server ends them', async () => {
    const watch = await kubectl(alice, 'get', 'pods', '-n', 'default', '-w');
    expect(watch.code, watch.stderr).toBe(0);
    expect(watch.stdout.match(/^web-0\s/gm)?.length).toBeGreaterThanOrEqual(2);
    const logs = await kubectl(alice, 'logs', '-f', 'web-0', '-n', 'default');
    expect(logs.code, logs.stderr).toBe(0);
    expect(logs.stdout).toMatch(/^web-0 log line 0\nweb-0 log line 1\nweb-0 log line 2\n/);
  });

  it('kubectl exec runs through the agent over WebSocket, stdin, stdout and exit codes included', async () => {
    const echo = await kubectl(alice, 'exec', 'web-0', '-n', 'default', '--', 'echo', 'hello', 'from', 'web-0');
    expect(echo.code, echo.stderr).toBe(0);
    expect(echo.stdout).toBe('hello from web-0\n');
    const cat = await run('kubectl', ['exec', '-i', 'web-0', '-n', 'default', '--', 'cat'], {
      env: alice.env,
      cwd: alice.home,
      input: 'typed into stdin\n',
    });
    expect(cat.stdout).toBe('typed into stdin\n');
    const failing = await kubectl(alice, 'exec', 'web-0', '-n', 'default', '--', 'exit', '3');
    expect(failing.code).toBe(3);
    expect(failing.stderr).toContain('command terminated with exit code 3');
    const upstream = kube.requests.filter((r) => r.path.includes('/exec?')).at(-1)!;
    expect(upstream.status).toBe(101);
    expect(headerValues(upstream, 'impersonate-user')).toEqual(['alice']);
  });

  it('kubectl --as and --as-group cannot escalate', async () => {
    const asAdmin = await kubectl(alice, 'get', 'pods', '--as=admin');
    expect(asAdmin.code).not.toBe(0);
    expect(asAdmin.stderr).toContain('Error from server (Forbidden): impersonation request has been denied');
    const asMasters = await kubectl(alice, 'get', 'pods', '--as=alice', '--as-group=system:masters');
    expect(asMasters.stderr).toContain('do not allow kubectl --as-group system:masters');
    const asSelf = await kubectl(alice, 'get', 'pods', '--as=alice', '--as-group=devs');
    expect(asSelf.stdout).toContain('web-0');
  });

  it('tsh kube ls, kube login and status show the clusters alice may reach', async () => {
    const ls = await tsh(alice, 'kube', 'ls', '--format=json');
    expect(JSON.parse(ls.stdout)).toEqual([
      // Each with its status as well (what local mode's agent last found).
      expect.objectContaining({ kube_cluster_name: 'dev', labels: { env: 'dev' }, selected: true }),
      expect.objectContaining({
        kube_cluster_name: 'prod',
        labels: { env: 'prod', team: 'payments', 'kubeconfig-context': 'arn:aws:eks:eu-west-1:111122223333:cluster/Prod' },
        selected: false,
      }),
    ]);
    const switched = await tsh(alice, 'kube', 'login', 'prod');
    expect(switched.stdout).toContain('Logged into Kubernetes cluster prod');
    expect((await kubectl(alice, 'config', 'current-context')).stdout.trim()).toBe('kubeport-local-prod');
    expect((await kubectl(alice, 'get', 'pods')).stdout).toContain('web-0');
    const missing = await tsh(alice, 'kube', 'login', 'nope');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe('tsh: kubernetes cluster "nope" not found or not allowed; npx tsh kube ls lists yours\n');
    expect((await tsh(alice, 'status')).stdout).toMatch(/Kubernetes groups:\s+devs/);
  });

  it('an invite works once', async () => {
    const again = await tshEnroll(person('mallory').env, local.proxy, 'alice', 'f'.repeat(48), PASSWORD);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('invite is invalid, expired or already used');
  });

  it('a wrong password or code is refused and changes nothing', async () => {
    const intruder = person('intruder');
    const wrongPassword = await node(cliPath('tsh'), ['login', `--proxy=${local.proxy}`, '--user=alice'], {
      env: intruder.env,
      input: `not the password\n${codeFor(aliceSecret, 1)}\n`,
    });
    expect(wrongPassword.code).toBe(1);
    expect(wrongPassword.stderr).toContain('tsh: invalid user name, password or TOTP code');
    const wrongCode = await node(cliPath('tsh'), ['login', `--proxy=${local.proxy}`, '--user=alice'], {
      env: intruder.env,
      input: `${PASSWORD}\n000000\n`,
    });
    expect(wrongCode.code).toBe(1);
    expect(wrongCode.stderr).toContain('invalid user name, password or TOTP code');
    expect(() => statSync(join(intruder.home, '.tsh', 'current-profile'))).toThrow();
  });

  it('a cluster outside the roles gets 403 naming the cluster; roles without Kubernetes principals get 403', async () => {
    const roleFile = join(dir, 'dev-only.yaml');
    writeFileSync(
      roleFile,
      stringify({
        kind: 'role',
        version: 'v7',
        metadata: { name: 'dev-only' },
        spec: { allow: { kubernetes_labels: { env: 'dev' }, kubernetes_groups: ['{{internal.kubernetes_groups}}'] } },
      }),
    );
    expect((await tctl('create', '-f', roleFile)).stdout).toContain('role "dev-only" has been created');
    const bob = person('bob');
    const bobLogin = await tshEnroll(
      bob.env,
      local.proxy,
      'bob',
      await addUser('bob', '--roles=dev-only', '--kubernetes-groups=interns'),
      PASSWORD,
    );
    expect(bobLogin.code, bobLogin.stderr).toBe(0);
    expect(
      JSON.parse((await tsh(bob, 'kube', 'ls', '--format=json')).stdout).map((c: { kube_cluster_name: string }) => c.kube_cluster_name),
    ).toEqual(['dev']);
    expect((await kubectl(bob, 'get', 'pods', '-n', 'default')).stdout).toContain('web-0');
    const prod = await kubectl(bob, 'get', 'pods', '-n', 'default', `--server=https://${local.agent}/k8s/prod`);
    // Answered as an unknown cluster (its labels and even its existence stay hidden).
    expect(prod.stderr).toContain('kubernetes cluster "prod" not found; tsh kube ls lists the clusters you may reach');
    expect(prod.stderr).not.toContain('env=prod');

    const carol = person('carol');
    const carolLogin = await tshEnroll(carol.env, local.proxy, 'carol', await addUser('carol', '--roles=dev-only'), PASSWORD);
    expect(carolLogin.code, carolLogin.stderr).toBe(0);
    const none = await kubectl(carol, 'get', 'pods', '-n', 'default');
    expect(none.stderr).toContain('grant no Kubernetes user or group on cluster "dev"');
  });

  it('tctl users rm cuts the user off within seconds', async () => {
    const bob = person('bob');
    expect((await kubectl(bob, 'get', 'pods', '-n', 'default')).stdout).toContain('web-0');
    expect((await tctl('users', 'rm', 'bob')).stdout).toBe('User "bob" has been deleted.\n');
    let stderr = '';
    for (let attempt = 0; attempt < 10 && !stderr.includes('no longer exists'); attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 500));
      stderr = (await kubectl(bob, 'get', 'pods', '-n', 'default')).stderr;
    }
    expect(stderr).toContain('Error from server (Forbidden): user bob no longer exists; ask an admin');
  });

  it("an expired certificate makes kubectl print tsh's one line saying to run tsh login only once", async () => {
    const certPath = join(alice.home, '.tsh', 'keys', local.proxy, 'alice.crt');
    const current = readFileSync(certPath, 'utf8');
    const userCaPem = readFileSync(join(alice.home, '.tsh', 'keys', local.proxy, 'cas', 'kubeport-local.pem'), 'utf8');
    const { signer } = FileSigner.loadOrCreate(join(dataDir, 'user-ca.key'));
    const past = new Date(Date.now() - 13 * 3_600_000);
    const spki = new Uint8Array(new X509Certificate(current).publicKey.export({ type: 'spki', format: 'der' }));
    const identity = {
      username: 'alice',
      roles: ['access'],
      traits: { kubernetes_groups: ['devs'] },
      connector: 'local',
      accessRequests: [],
      issuedAt: past.toISOString(),
    };
    const expired = await issueUserCertificate(
      { signer, clock: { now: () => past }, random: systemRandom, certPem: userCaPem },
      spki,
      identity,
      3_600_000,
    );
    writeFileSync(certPath, expired);
    try {
      const result = await kubectl(alice, 'get', 'pods');
      expect(result.code).not.toBe(0);
      // Once, although kubectl runs the plugin again on each of its retries.
      expect(result.stderr.match(/^tsh: .*$/gm)).toEqual([
        expect.stringMatching(
          /^tsh: your Kubeport session for alice at 127\.0\.0\.1:\d+ expired 12h\S* ago; run: (npx tsh|tsh|\S+\/cli\/tsh\.mjs) login --proxy=127\.0\.0\.1:\d+ --user=alice$/,
        ),
      ]);
    } finally {
      writeFileSync(certPath, current);
    }
  });

  it('a second start keeps users, roles and keys; alice logs in with password and code', async () => {
    firstProxy = local.proxy;
    expect(await local.stop()).toBe(0);
    // The new process listens on new ports; alice logs in again against the new address. The
    // kubeconfig now lacks the prod context, so prod leaves the cluster list.
    const devOnly = join(dir, 'dev-only-kubeconfig.yaml');
    const source = parse(readFileSync(sourceKubeconfig, 'utf8'));
    writeFileSync(devOnly, stringify({ ...source, contexts: source.contexts.filter((c: { name: string }) => c.name === 'dev') }));
    local = await startLocalModeProcess({ dataDir, kubeconfig: devOnly });
    // One code for both logins: computing it twice could cross a 30 s step and make two codes.
    const code = codeFor(aliceSecret, 1);
    const relogin = await node(cliPath('tsh'), ['login', `--proxy=${local.proxy}`, '--user=alice'], {
      env: alice.env,
      input: `${PASSWORD}\n${code}\n`,
    });
    expect(relogin.code, relogin.stderr).toBe(0);
    expect((await kubectl(alice, 'get', 'pods', '-n', 'default')).stdout).toContain('web-0');
    expect(
      JSON.parse((await tsh(alice, 'kube', 'ls', '--format=json')).stdout).map((c: { kube_cluster_name: string }) => c.kube_cluster_name),
    ).toEqual(['dev']);
    const replay = await node(cliPath('tsh'), ['login', `--proxy=${local.proxy}`, '--user=alice'], {
      env: alice.env,
      input: `${PASSWORD}\n${code}\n`,
    });
    expect(replay.code).toBe(1);
    expect(replay.stderr).toContain('invalid user name, password or TOTP code (each code works once');
    // The clusters the kubeconfig brought and took away are audited as an admin's changes would be.
    const changes = async (type: string) =>
      (JSON.parse((await tctl('audit', 'search', '--since=2h', `--type=${type}`, '--format=json')).stdout) as { name: string }[]).map(
        (e) => e.name,
      );
    expect((await changes('kube.create')).sort()).toEqual(['dev', 'prod']);
    expect(await changes('kube.delete')).toEqual(['prod']);
    // The second start found dev as it was: no change, no event.
    expect(await changes('kube.update')).toEqual([]);
  });

  it('tsh logout removes exactly its own keys and kubeconfig entries', async () => {
    const contexts = () => parse(readFileSync(alice.kubeconfig, 'utf8')).contexts.map((c: { name: string }) => c.name);
    const out = await tsh(alice, 'logout');
    expect(out.stdout).toContain(`Logged out of ${local.proxy}; removed kubeconfig entries kubeport-local-dev`);
    expect(() => statSync(join(alice.home, '.tsh', 'keys', local.proxy, 'alice.key'))).toThrow();
    // The profile of the first run (another proxy address) keeps its own entry until it logs out too.
    expect(contexts()).toEqual(['other', 'kubeport-local-prod']);
    await tsh(alice, 'logout', `--proxy=${firstProxy}`);
    expect(contexts()).toEqual(['other']);
  });

  it('a bad flag or an unreadable kubeconfig ends npm start at once with a message', async () => {
    const badAddr = await node(cliPath('kubeport-local'), [
      '--kubeconfig',
      sourceKubeconfig,
      '--data-dir',
      join(dir, 'bad'),
      '--api-addr',
      '0.0.0.0:3080',
    ]);
    expect(badAddr.code).toBe(2);
    expect(badAddr.stderr).toContain('--api-addr must be a loopback address');
    const missing = await node(cliPath('kubeport-local'), ['--kubeconfig', join(dir, 'nope.yaml'), '--data-dir', join(dir, 'bad')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain(`cannot read kubeconfig ${join(dir, 'nope.yaml')}: ENOENT`);
    const badLabels = await node(cliPath('kubeport-local'), [
      '--kubeconfig',
      sourceKubeconfig,
      '--data-dir',
      join(dir, 'bad'),
      '--cluster-labels',
      'dev=prod',
    ]);
    expect(badLabels.stderr).toContain('must look like CLUSTER:KEY=VALUE');
  });
});
