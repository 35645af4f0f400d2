import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LOCAL_DEFAULTS, parseLocalConfig } from '../../bin/local-config.js';

const dir = mkdtempSync(join(tmpdir(), 'local-config-'));
const kubeconfig = join(dir, 'kubeconfig');
writeFileSync(kubeconfig, 'apiVersion: v1\nkind: Config\n');

describe('npm start configuration', () => {
  it('applies each default when a flag is not given', () => {
    const config = parseLocalConfig({ kubeconfig }, {});
    expect(config).toMatchObject({
      kubeconfig,
      apiAddr: { host: '127.0.0.1', port: 3080 },
      agentAddr: { host: '127.0.0.1', port: 3026 },
      dataDir: resolve(LOCAL_DEFAULTS.dataDir),
      clusterName: LOCAL_DEFAULTS.clusterName,
      clusterLabels: {},
      demo: false,
      drainTimeout: 30_000,
    });
  });

  it('reads --drain-timeout as a duration or whole seconds, from 0 to 1h', () => {
    expect(parseLocalConfig({ kubeconfig, drainTimeout: '2m' }, {}).drainTimeout).toBe(120_000);
    expect(parseLocalConfig({ kubeconfig, drainTimeout: '45' }, {}).drainTimeout).toBe(45_000);
    expect(parseLocalConfig({ kubeconfig, drainTimeout: '0s' }, {}).drainTimeout).toBe(0);
    for (const wrong of ['2h', 'soon', '-5s'])
      expect(() => parseLocalConfig({ kubeconfig, drainTimeout: wrong }, {})).toThrow(
        `--drain-timeout must be a duration from 0s to 1h such as 30s or 2m (seconds when no unit), not ${wrong}`,
      );
  });

  it('reports every problem at once', () => {
    let message = '';
    try {
      parseLocalConfig(
        {
          apiAddr: '0.0.0.0:3080',
          agentAddr: 'localhost:99999',
          clusterName: 'Not_A_Name',
          clusterLabels: ['prod', 'dev:env', 'qa:team=x,bad'],
          clusterLabelsFile: join(dir, 'no-such-labels.yaml'),
        },
        { KUBECONFIG: kubeconfig },
      );
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message.split('\n')[0]).toBe('7 problems:');
    expect(message).toContain(
      '--api-addr must be a loopback address HOST:PORT such as 127.0.0.1:3080 (local mode never listens beyond this machine), not 0.0.0.0:3080',
    );
    expect(message).toContain(
      '--agent-addr must be a loopback address HOST:PORT such as 127.0.0.1:3026 (local mode never listens beyond this machine), not localhost:99999',
    );
    expect(message).toContain('--cluster-name must be a DNS name');
    expect(message).toContain('--cluster-labels "prod" must look like CLUSTER:KEY=VALUE');
    expect(message).toContain('--cluster-labels "dev:env": "env" is not KEY=VALUE');
    expect(message).toContain('--cluster-labels "qa:team=x,bad": "bad" is not KEY=VALUE');
    expect(message).toContain(`--cluster-labels-file ${join(dir, 'no-such-labels.yaml')}: ENOENT`);
  });

  it('checks across flags and the kubeconfig in the same pass', () => {
    expect(() => parseLocalConfig({ apiAddr: '127.0.0.1:4000', agentAddr: 'localhost:4000' }, { KUBECONFIG: join(dir, 'absent') })).toThrow(
      /^2 problems:\n {2}- --api-addr and --agent-addr must differ\n {2}- no kubeconfig at .*absent; pass --kubeconfig FILE, or try Kubeport with its demo cluster/,
    );
  });

  it('--demo-github-addr: 127.0.0.1:3081 by default, localhost accepted, another loopback name or a clash refused', () => {
    expect(parseLocalConfig({ kubeconfig }, {}).demoGithubAddr).toEqual({ host: '127.0.0.1', port: 3081 });
    expect(parseLocalConfig({ kubeconfig, demoGithubAddr: 'localhost:4100' }, {}).demoGithubAddr).toEqual({
      host: '127.0.0.1',
      port: 4100,
    });
    expect(() => parseLocalConfig({ kubeconfig, demoGithubAddr: '0.0.0.0:3081' }, {})).toThrow(
      '--demo-github-addr must be a loopback address HOST:PORT such as 127.0.0.1:3081 (local mode never listens beyond this machine), not 0.0.0.0:3081',
    );
    // A connector takes plain http only from 127.0.0.1 and localhost.
    expect(() => parseLocalConfig({ kubeconfig, demoGithubAddr: '127.0.0.2:3081' }, {})).toThrow(
      '--demo-github-addr must be 127.0.0.1:PORT or localhost:PORT such as 127.0.0.1:3081',
    );
    expect(() => parseLocalConfig({ demo: true, apiAddr: '127.0.0.1:4200', demoGithubAddr: 'localhost:4200' }, {})).toThrow(
      '--demo-github-addr and --api-addr must differ',
    );
  });

  it('merges labels of the file and the flags, flags winning', () => {
    const file = join(dir, 'labels.yaml');
    writeFileSync(file, 'prod:\n  env: production\n  tier: 1\n');
    const config = parseLocalConfig({ demo: true, clusterLabelsFile: file, clusterLabels: ['prod:env=prod'] }, {});
    expect(config.kubeconfig).toBeUndefined();
    expect(config.clusterLabels).toEqual({ prod: { env: 'prod' } });
  });
});
