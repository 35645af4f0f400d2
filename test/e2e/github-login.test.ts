// GitHub login end to end, as the README has a new user do it: npm start, tctl create -f
// github.yaml, tsh login (browser, then headless), and kubectl reaches the cluster as the GitHub
// user with the groups their team maps to. GitHub is the stand-in; the browser is the scripted
// one, started by tsh through $BROWSER.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type KubeApiServer, startKubeApiServer } from '../../lib/demo/kube-apiserver.js';
import { browserScript } from '../support/browser-script.js';
import { cliPath, node, run } from '../support/cli.js';
import { GitHubStandIn } from '../support/github-stand-in.js';
import { type LocalModeProcess, startLocalModeProcess } from '../support/local-mode-process.js';

describe('GitHub login in local mode, with tsh and kubectl', () => {
  let kube: KubeApiServer;
  let local: LocalModeProcess;
  let github: GitHubStandIn;
  let dir: string;

  const person = (name: string, extra: NodeJS.ProcessEnv = {}) => {
    const home = join(dir, name);
    const env: NodeJS.ProcessEnv = { ...process.env };
    for (const variable of ['BROWSER', 'DISPLAY', 'WAYLAND_DISPLAY']) delete env[variable];
    return {
      home,
      env: {
        ...env,
        HOME: home,
        TSH_HOME: join(home, '.tsh'),
        KUBECONFIG: join(home, '.kube', 'config'),
        KUBECACHEDIR: join(home, 'cache'),
        ...extra,
      },
    };
  };
  const kubectl = (who: { env: NodeJS.ProcessEnv; home: string }, ...args: string[]) =>
    run('kubectl', args, { env: who.env, cwd: who.home });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kubeport-e2e-github-'));
    kube = await startKubeApiServer({ rbac: { devs: ['*'] } });
    const agentCert = await kube.issueClientCert('kubeport-agent');
    const sourceKubeconfig = join(dir, 'source-kubeconfig.yaml');
    writeFileSync(
      sourceKubeconfig,
      stringify({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [
          { name: 'standin', cluster: { server: kube.url, 'certificate-authority-data': Buffer.from(kube.caPem).toString('base64') } },
        ],
        users: [
          {
            name: 'agent',
            user: {
              'client-certificate-data': Buffer.from(agentCert.certPem).toString('base64'),
              'client-key-data': Buffer.from(agentCert.keyPem).toString('base64'),
            },
          },
        ],
        contexts: [{ name: 'dev', context: { cluster: 'standin', user: 'agent' } }],
        'current-context': 'dev',
      }),
    );
    local = await startLocalModeProcess({ dataDir: join(dir, 'data'), kubeconfig: sourceKubeconfig });
    github = await GitHubStandIn.start();
    const callbackUrl = `http://${local.proxy}/webapi/github/callback`;
    github.addApp({ clientId: 'Ov23li-kubeport', clientSecret: 'e2e-client-secret', callbackUrl });
    github.addUser({ id: 583231, login: 'octocat', teams: [{ organization: 'acme', slug: 'platform', name: 'Platform' }] });
    github.signedIn = 583231;
    const file = join(dir, 'github.yaml');
    writeFileSync(
      file,
      stringify({
        kind: 'github',
        version: 'v3',
        metadata: { name: 'github' },
        spec: {
          client_id: 'Ov23li-kubeport',
          client_secret: 'e2e-client-secret',
          redirect_url: callbackUrl,
          display: 'GitHub',
          endpoint_url: github.url,
          api_endpoint_url: github.apiUrl,
          teams_to_logins: [{ organization: 'acme', team: 'platform', logins: ['access'], kubernetes_groups: ['devs'] }],
        },
      }),
    );
    const created = await node(cliPath('tctl'), [`--data-dir=${join(dir, 'data')}`, 'create', '-f', file]);
    expect(created.stdout, created.stderr).toContain('github "github" has been created');
  });

  afterAll(async () => {
    await local?.stop();
    await kube?.close();
    await github?.close();
  });

  it('tsh login opens the browser, and kubectl works as the GitHub user with the groups of their team', async () => {
    const browser = browserScript();
    const octocat = person('octocat', { BROWSER: browser.path });
    const login = await node(cliPath('tsh'), ['login', `--proxy=${local.proxy}`], { env: octocat.env, timeoutMs: 30_000 });
    expect(login.code, login.stderr).toBe(0);
    expect((await browser.landing()).body).toContain('Login successful, you may close this page');
    expect(login.stdout).toContain('Logged in as:       octocat');
    const pods = await kubectl(octocat, 'get', 'pods', '-n', 'default');
    expect(pods.stderr).toBe('');
    expect(pods.stdout).toMatch(/web-0\s+1\/1\s+Running/);
    const whoami = await kubectl(octocat, 'auth', 'whoami');
    expect(whoami.stdout).toMatch(/Username\s+octocat/);
    expect(whoami.stdout).toMatch(/Groups\s+\[devs system:authenticated\]/);
  });

  it('tsh login --headless gets the same access after the code is approved', async () => {
    const someone = person('headless');
    let approved = false;
    const login = await node(cliPath('tsh'), ['login', `--proxy=${local.proxy}`, '--headless'], {
      env: someone.env,
      respond: (stderr) => {
        const code = /enter the code:\s+(\S+)/.exec(stderr)?.[1];
        if (code && !approved) {
          approved = true;
          github.device(code).approve(583231);
        }
      },
      timeoutMs: 30_000,
    });
    expect(login.code, login.stderr).toBe(0);
    expect(login.stderr).toContain(`${github.url}/login/device`);
    expect(login.stdout).toContain('Logged in as:       octocat');
    const whoami = await kubectl(someone, 'auth', 'whoami');
    expect(whoami.stdout).toMatch(/Username\s+octocat/);
  });
});
