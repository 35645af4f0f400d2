// The auth API (over embedded DynamoDB) with GitHub login pointed at the GitHub stand-in, a
// connector created through the admin API as tctl would, and a loopback listener standing in
// for tsh's callback listener.
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { GitHubHttpApi } from '../../lib/adapters/github/github-http-api.js';
import { ApiClient } from '../../lib/client/api-client.js';
import { newKeyPair } from '../../lib/client/login.js';
import { openForClient } from '../../lib/core/client-seal.js';
import { type ApiHarness, startApiHarness } from './api-harness.js';
import { GitHubStandIn } from './github-stand-in.js';
import { browse, type Landing } from './scripted-browser.js';
import type { LoginResponse } from '../../lib/services/login-response.js';

export const CLIENT_ID = 'Iv1.kubeport0000001';
export const CLIENT_SECRET = 'kubeport-oauth-secret-0123456789abcdef';

/** What the API seals for tsh: the one login answer the services build. */
export type LoginResult = LoginResponse;

export interface GitHubHarness {
  h: ApiHarness;
  github: GitHubStandIn;
  /** Unsigned calls, as tsh makes them. */
  api: ApiClient;
  /** Signed admin calls, as tctl makes them. */
  admin: <T>(method: string, path: string, body?: unknown) => Promise<T>;
  /** The URL of tsh's callback listener, with a fresh 32-byte key. */
  clientRedirect(): { url: string; secretKey: string };
  /** POST /webapi/github/login/console; the GitHub authorize URL. */
  startConsole(options?: { ttlSeconds?: number; connector?: string; redirectUrl?: string }): Promise<{
    authorizeUrl: string;
    secretKey: string;
    publicKeyDer: Buffer;
  }>;
  /** The whole browser login; `landing.url` is where the browser ended (tsh's listener, with the sealed result or sealed failure). */
  browserLogin(options?: { ttlSeconds?: number; connector?: string }): Promise<{
    landing: Landing;
    login?: LoginResult;
    err?: string;
    publicKeyDer: Buffer;
  }>;
  /** The result the browser delivered to tsh's listener. */
  read(landingUrl: string, secretKey: string): { login?: LoginResult; err?: string };
  close(): Promise<void>;
}

export async function startGitHubHarness(options: { perPage?: number; maxPages?: number } = {}): Promise<GitHubHarness> {
  const h = await startApiHarness(new Date(), { github: new GitHubHttpApi(options) });
  const github = await GitHubStandIn.start({ now: () => h.clock.now().getTime() });
  const callbackUrl = `http://${h.proxy}/webapi/github/callback`;
  github.addApp({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, callbackUrl });
  const tsh = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' }).end('tsh got the login; you may close this tab');
  });
  await new Promise<void>((resolve) => tsh.listen(0, '127.0.0.1', resolve));
  const tshPort = (tsh.address() as AddressInfo).port;
  const api = new ApiClient(h.proxy);
  const adminClient = new ApiClient(h.proxy, 'kubeport:kubeport-test', h.clock);
  const adminIdentity = await h.identity({ username: 'kubeport-admin', roles: ['editor'] });
  const admin = <T>(method: string, path: string, body?: unknown) => adminClient.call<T>(method, path, body, adminIdentity);

  await admin('POST', '/webapi/admin/resources', {
    document: {
      kind: 'role',
      version: 'v7',
      metadata: { name: 'dev' },
      spec: {
        options: { max_session_ttl: '1h' },
        allow: { kubernetes_labels: { '*': '*' }, kubernetes_groups: ['{{internal.kubernetes_groups}}'] },
      },
    },
  });
  await admin('POST', '/webapi/admin/resources', {
    document: {
      kind: 'github',
      version: 'v3',
      metadata: { name: 'github' },
      spec: {
        client_id: CLIENT_ID,
        client_secret: CLIENT_SECRET,
        display: 'GitHub (stand-in)',
        redirect_url: callbackUrl,
        endpoint_url: github.url,
        api_endpoint_url: github.apiUrl,
        teams_to_roles: [{ organization: 'acme', team: 'platform', roles: ['access', 'dev'] }],
        teams_to_logins: [{ organization: 'acme', team: 'sre', logins: ['access'], kubernetes_groups: ['system:masters'] }],
      },
    },
  });

  const clientRedirect = () => {
    const secretKey = randomBytes(32).toString('hex');
    return { url: `http://127.0.0.1:${tshPort}/callback?secret_key=${secretKey}`, secretKey };
  };
  const read = (landingUrl: string, secretKey: string) => {
    const query = new URL(landingUrl).searchParams;
    // The API never sends a plain err= (tsh would ignore it): failures are sealed as {error}.
    if (query.has('err')) throw new Error(`the API sent a plain err= to tsh: ${query.get('err')}`);
    const response = query.get('response');
    if (response === null) return {};
    const opened = JSON.parse(openForClient(secretKey, JSON.parse(response))) as LoginResult | { error: string };
    return 'error' in opened ? { err: opened.error } : { login: opened };
  };
  const startConsole: GitHubHarness['startConsole'] = async (o = {}) => {
    const keys = newKeyPair();
    const redirect = clientRedirect();
    const answer = await api.call<{ redirect_url: string }>('POST', '/webapi/github/login/console', {
      public_key: keys.publicKeyPem,
      redirect_url: o.redirectUrl ?? redirect.url,
      ...(o.ttlSeconds === undefined ? {} : { ttl_seconds: o.ttlSeconds }),
      ...(o.connector === undefined ? {} : { connector_id: o.connector }),
    });
    return { authorizeUrl: answer.redirect_url, secretKey: redirect.secretKey, publicKeyDer: keys.publicKeyDer };
  };
  return {
    h,
    github,
    api,
    admin,
    clientRedirect,
    startConsole,
    read,
    browserLogin: async (o = {}) => {
      const started = await startConsole(o);
      const landing = await browse(started.authorizeUrl);
      return { landing, publicKeyDer: started.publicKeyDer, ...read(landing.url, started.secretKey) };
    },
    close: async () => {
      await new Promise<void>((resolve) => {
        tsh.close(() => resolve());
        tsh.closeAllConnections();
      });
      await github.close();
      await h.close();
    },
  };
}
