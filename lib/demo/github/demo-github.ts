// npm start -- --demo's GitHub: the stand-in with three demo users, one OAuth app and a demo
// password, so GitHub login can be tried without a GitHub account or the internet. The app's
// client id and secret and the password are made once per data directory (demo-github.json,
// 0600) so a connector created from demo-github-connector.yaml keeps working across restarts.
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { KubeportError } from '../../core/errors.js';
import { readPrivateFile, writeFileAtomic, writeNewFile } from '../../platform/safe-file.js';
import { GitHubStandIn, type StandInUser } from './github-server.js';

export const DEMO_GITHUB_USERS: StandInUser[] = [
  { id: 1001, login: 'dana', teams: [{ organization: 'acme', slug: 'developers', name: 'Developers' }] },
  { id: 1002, login: 'erik', teams: [{ organization: 'acme', slug: 'sre', name: 'SRE' }] },
  { id: 1003, login: 'finn', teams: [] },
];

export const DEMO_CONNECTOR_NAME = 'github';

interface DemoGitHubSecrets {
  clientId: string;
  clientSecret: string;
  password: string;
}

export interface DemoGitHub {
  url: string;
  connectorFile: string;
  password: string;
  close(): Promise<void>;
}

export async function startDemoGitHub(options: {
  dataDir: string;
  host: string;
  port: number;
  /** The local API's base URL, e.g. http://127.0.0.1:3080: the OAuth app's callback is below it. */
  apiUrl: string;
}): Promise<DemoGitHub> {
  const secrets = demoSecrets(join(options.dataDir, 'demo-github.json'));
  const server = await GitHubStandIn.start({ host: options.host, port: options.port, password: secrets.password }).catch(
    (error: NodeJS.ErrnoException) => {
      throw new KubeportError(
        'invalid_config',
        `the demo GitHub cannot listen on ${options.host}:${options.port} (${error.code ?? error.message}); pass --demo-github-addr HOST:PORT with a free port`,
      );
    },
  );
  const callbackUrl = `${options.apiUrl}/webapi/github/callback`;
  server.addApp({ clientId: secrets.clientId, clientSecret: secrets.clientSecret, callbackUrl, deviceFlow: true });
  for (const user of DEMO_GITHUB_USERS) server.addUser(user);
  const connectorFile = join(options.dataDir, 'demo-github-connector.yaml');
  // 0600: the file holds the client secret, as a connector file a person writes would.
  writeFileAtomic(connectorFile, demoConnectorYaml(server.url, callbackUrl, secrets), { mode: 0o600 });
  return { url: server.url, connectorFile, password: secrets.password, close: () => server.close() };
}

/**
 * dana (acme/developers) gets the access role and the Kubernetes group devs (the demo clusters' RBAC
 * lets devs into the default namespace only; on real clusters it grants what their RBAC says); erik
 * (acme/sre) and finn (no team) map to nothing, so their logins show the refusal.
 */
export function demoConnectorYaml(githubUrl: string, callbackUrl: string, secrets: Omit<DemoGitHubSecrets, 'password'>): string {
  return stringify({
    kind: 'github',
    version: 'v3',
    metadata: { name: DEMO_CONNECTOR_NAME, description: 'The demo GitHub of npm start -- --demo' },
    spec: {
      display: 'Demo GitHub',
      client_id: secrets.clientId,
      client_secret: secrets.clientSecret,
      redirect_url: callbackUrl,
      endpoint_url: githubUrl,
      api_endpoint_url: `${githubUrl}/api/v3`,
      teams_to_roles: [{ organization: 'acme', team: 'developers', roles: ['access'] }],
      // The legacy mapping is the one that sets Kubernetes groups directly (as traits).
      teams_to_logins: [{ organization: 'acme', team: 'developers', logins: ['access'], kubernetes_groups: ['devs'] }],
    },
  });
}

function demoSecrets(path: string): DemoGitHubSecrets {
  const existing = readPrivateFile(path);
  if (existing) {
    const parsed = JSON.parse(existing.toString('utf8')) as Partial<DemoGitHubSecrets>;
    if (parsed.clientId && parsed.clientSecret && parsed.password) return parsed as DemoGitHubSecrets;
    throw new KubeportError('invalid_config', `${path} is not the demo GitHub's settings; remove it and start again`);
  }
  const secrets: DemoGitHubSecrets = {
    clientId: `Iv1.${randomBytes(8).toString('hex')}`,
    clientSecret: randomBytes(20).toString('hex'),
    // Short enough to type, 80 random bits.
    password: randomBytes(10).toString('base64url'),
  };
  writeNewFile(path, JSON.stringify(secrets, null, 2), 0o600);
  return secrets;
}
