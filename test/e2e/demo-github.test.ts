// npm start -- --demo's GitHub, as the README offers it to someone without a GitHub account:
// the printed connector file goes in with tctl create -f, then the real tsh signs in with
// --auth=github, once in a (scripted) browser that fills in the demo GitHub's sign-in form and
// once headless with the code entered on the demo GitHub's device page.
import { mkdirSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../lib/adapters/local/free-port.js';
import { cliPath, node, run } from '../support/cli.js';
import { type LocalModeProcess, startLocalModeProcess } from '../support/local-mode-process.js';
import { browse } from '../support/scripted-browser.js';

const URL_LINE = /^If the browser does not open, visit: (\S+)$/m;

/** A person at the demo GitHub's sign-in form: the hidden fields as served, a user and the password. */
async function signInThroughForm(url: string, login: { userId: string; password: string }): Promise<string> {
  const form = await browse(url);
  expect(form.body).toContain('Sign in to the demo GitHub');
  const fields = new URLSearchParams();
  for (const match of form.body.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) {
    fields.set(match[1]!, match[2]!.replaceAll('&#38;', '&').replaceAll('&#34;', '"'));
  }
  fields.set('user_id', login.userId);
  fields.set('password', login.password);
  fields.set('decision', 'approve');
  const action = new URL('/login/oauth/authorize', form.url);
  const posted = await fetch(action, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin: action.origin, 'sec-fetch-site': 'same-origin' },
    body: fields.toString(),
  });
  expect(posted.status).toBe(302);
  return (await browse(posted.headers.get('location')!)).body;
}

describe('npm start -- --demo: GitHub login through the demo GitHub', () => {
  let dir: string;
  let local: LocalModeProcess;
  let env: NodeJS.ProcessEnv;
  let githubAddr: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kubeport-demo-github-'));
    mkdirSync(join(dir, 'home'));
    env = {
      ...process.env,
      HOME: join(dir, 'home'),
      TSH_HOME: join(dir, 'home', '.tsh'),
      KUBECONFIG: join(dir, 'home', '.kube', 'config'),
    };
    for (const name of ['BROWSER', 'DISPLAY', 'WAYLAND_DISPLAY']) delete env[name];
    githubAddr = `127.0.0.1:${await freePort()}`;
    local = await startLocalModeProcess({ dataDir: join(dir, 'data'), extraArgs: ['--demo', '--demo-github-addr', githubAddr], env });
  });
  afterAll(async () => {
    await local?.stop();
  });

  it('prints the demo GitHub, its password and connector file; tctl create -f and tsh login --auth=github sign dana in', async () => {
    const output = local.output();
    const connectorFile = join(dir, 'data', 'demo-github-connector.yaml');
    expect(output).toContain(`  demo GitHub   http://${githubAddr}  (users dana (acme/developers), erik (acme/sre), finn (no team))`);
    expect(output).toContain(`  connector     ${connectorFile}`);
    expect(output).toContain(`tctl create --force -f ${connectorFile} --data-dir=`);
    expect(output).toContain(`tsh login --proxy=${local.proxy} --auth=github --headless`);
    const password = /^ {2}password {6}(\S+)/m.exec(output)![1]!;
    // The password and the client secret stay with this account.
    expect(statSync(join(dir, 'data', 'demo-github.json')).mode & 0o777).toBe(0o600);
    expect(statSync(connectorFile).mode & 0o777).toBe(0o600);
    const connector = parse(readFileSync(connectorFile, 'utf8')) as { spec: Record<string, unknown> };
    expect(connector.spec).toMatchObject({
      endpoint_url: `http://${githubAddr}`,
      api_endpoint_url: `http://${githubAddr}/api/v3`,
      redirect_url: `http://${local.proxy}/webapi/github/callback`,
    });

    const created = await node(cliPath('tctl'), [`--data-dir=${join(dir, 'data')}`, 'create', '-f', connectorFile], { env });
    expect(created.code, created.stderr).toBe(0);

    let landing: Promise<string> | undefined;
    const login = await node(cliPath('tsh'), ['login', `--proxy=${local.proxy}`, '--auth=github', '--browser=none'], {
      env,
      respond: (stderr) => {
        const url = URL_LINE.exec(stderr)?.[1];
        if (url && !landing) landing = signInThroughForm(url, { userId: '1001', password });
      },
      timeoutMs: 30_000,
    });
    expect(login.code, login.stderr).toBe(0);
    expect(await landing).toContain('Login successful, you may close this page');
    expect(login.stdout).toContain('Logged in as:       dana');
    const whoami = await run('kubectl', ['auth', 'whoami', '-o', 'jsonpath={.status.userInfo.groups}'], { env, cwd: dir });
    expect(whoami.stdout, whoami.stderr).toContain('devs');
  });

  it('tsh login --auth=github --headless: the code entered on the demo GitHub device page with the password signs dana in', async () => {
    const password = /^ {2}password {6}(\S+)/m.exec(local.output())![1]!;
    let approved: Promise<Response> | undefined;
    const login = await node(cliPath('tsh'), ['login', `--proxy=${local.proxy}`, '--auth=github', '--headless'], {
      env,
      respond: (stderr) => {
        const code = /enter the code:\s+(\S+)/.exec(stderr)?.[1];
        if (!code || approved) return;
        expect(stderr).toContain(`http://${githubAddr}/login/device`);
        approved = fetch(`http://${githubAddr}/login/device`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded', origin: `http://${githubAddr}` },
          body: new URLSearchParams({ user_code: code, user_id: '1001', password, decision: 'approve' }).toString(),
        });
      },
      timeoutMs: 30_000,
    });
    expect(login.code, login.stderr).toBe(0);
    expect((await approved)!.status).toBe(200);
    expect(login.stdout).toContain('Logged in as:       dana');
  });
});
