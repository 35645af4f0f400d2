// The client harness with GitHub login configured as an admin would: the real GitHub HTTP adapter
// pointed at the GitHub stand-in, a connector created with tctl create, a cluster to reach, and
// one GitHub user in a mapped team, signed in to the stand-in's web UI.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { GitHubHttpApi } from '../../lib/adapters/github/github-http-api.js';
import { run as create } from '../../lib/client/commands/tctl-create.js';
import { GitHubStandIn } from '../support/github-stand-in.js';
import { type ClientHarness, startClientHarness, tctlRun } from './client-harness.js';

export const OCTOCAT = { id: 583231, login: 'octocat', teams: [{ organization: 'acme', slug: 'devs', name: 'Devs' }] };
export const OUTSIDER = { id: 1, login: 'outsider', teams: [{ organization: 'other', slug: 'people' }] };

export interface GitHubHarness extends ClientHarness {
  github: GitHubStandIn;
}

export async function startGitHubHarness(): Promise<GitHubHarness> {
  const started: { harness?: ClientHarness } = {};
  // The stand-in keeps GitHub's time on the harness's clock: codes and device intervals expire with it.
  const github = await GitHubStandIn.start({ now: () => started.harness?.clock.now().getTime() ?? Date.now() });
  const harness = (started.harness = await startClientHarness({ github: new GitHubHttpApi() }));
  const callbackUrl = `http://${harness.proxy}/webapi/github/callback`;
  github.addApp({ clientId: 'Iv1.kubeport-test', clientSecret: 'kubeport-test-secret', callbackUrl });
  github.addUser(OCTOCAT);
  github.addUser(OUTSIDER);
  github.signedIn = OCTOCAT.id;
  const file = join(mkdtempSync(join(tmpdir(), 'kubeport-github-')), 'github.yaml');
  writeFileSync(
    file,
    [
      {
        kind: 'github',
        version: 'v3',
        metadata: { name: 'github' },
        spec: {
          client_id: 'Iv1.kubeport-test',
          client_secret: 'kubeport-test-secret',
          redirect_url: callbackUrl,
          display: 'GitHub',
          endpoint_url: github.url,
          api_endpoint_url: github.apiUrl,
          teams_to_roles: [{ organization: 'acme', team: 'devs', roles: ['access'] }],
        },
      },
      { kind: 'kube_cluster', metadata: { name: 'dev', labels: { env: 'dev' } } },
    ]
      .map((document) => stringify(document))
      .join('---\n'),
  );
  await create({ file, force: false }, tctlRun(harness).deps);
  const close = harness.close;
  return {
    ...harness,
    github,
    close: async () => {
      await close();
      await github.close();
    },
  };
}
