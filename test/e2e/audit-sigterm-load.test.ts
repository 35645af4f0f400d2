// npm start stopped with SIGTERM in the middle of a steady load of kubectl-like requests: every
// request that got an answer (each answer carries the agent's Audit-Id) has exactly one
// kube.request event, whether the writer stored it before the process ended or spooled it and
// the next start on the same data directory replayed it.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeDynamoClient, makeS3Client } from '../../lib/adapters/aws/clients.js';
import { tableNamesWithPrefix } from '../../lib/adapters/aws/dynamo-tables.js';
import { startEmbeddedDynamoDb } from '../../lib/adapters/local/embedded-dynamodb.js';
import { startEmbeddedS3 } from '../../lib/adapters/local/embedded-s3.js';
import { archivedObjects } from '../support/audit-archive.js';
import { countByUid, scanAuditEvents } from '../support/audit-table.js';
import { run } from '../support/cli.js';
import { addKubeUser, type LocalModeProcess, startLocalModeProcess, userShellEnv } from '../support/local-mode-process.js';

interface KubeTarget {
  server: string;
  ca: Buffer;
  cert: string;
  key: string;
}

/** Where kubectl would go and with what, as tsh set it up (kubeconfig, exec plugin). */
async function kubeTarget(env: NodeJS.ProcessEnv, cwd: string): Promise<KubeTarget> {
  const view = await run('kubectl', ['config', 'view', '--raw', '--minify', '-o', 'json'], { env, cwd });
  expect(view.code, view.stderr).toBe(0);
  const config = JSON.parse(view.stdout) as {
    clusters: { cluster: { server: string; 'certificate-authority-data': string } }[];
    users: { user: { exec: { command: string; args: string[] } } }[];
  };
  const exec = config.users[0]!.user.exec;
  const credential = await run(exec.command, exec.args, { env, cwd });
  expect(credential.code, credential.stderr).toBe(0);
  const { status } = JSON.parse(credential.stdout) as { status: { clientCertificateData: string; clientKeyData: string } };
  return {
    server: config.clusters[0]!.cluster.server,
    ca: Buffer.from(config.clusters[0]!.cluster['certificate-authority-data'], 'base64'),
    cert: status.clientCertificateData,
    key: status.clientKeyData,
  };
}

// What kubectl get, describe and a missing name ask for (discovery requests are counted, not logged one by one).
const PATHS = [
  '/api/v1/namespaces/default/pods',
  '/api/v1/namespaces/default/pods/web-0',
  '/api/v1/namespaces/default/configmaps/web-config',
  '/api/v1/namespaces/default/pods/no-such-pod',
];

/** One GET; resolves with the Audit-Id of the answer, or undefined when there was no answer. */
function get(target: KubeTarget, agent: Agent, path: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    const req = request(
      new URL(path, target.server),
      { agent, ca: target.ca, cert: target.cert, key: target.key, headers: { accept: 'application/json' } },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.headers['audit-id'] as string | undefined));
        res.on('error', () => resolve(undefined));
      },
    );
    req.on('error', () => resolve(undefined));
    req.setTimeout(20_000, () => req.destroy());
    req.end();
  });
}

describe('npm start stopped with SIGTERM under a steady load', () => {
  let dir: string;
  let dataDir: string;
  let env: NodeJS.ProcessEnv;
  let local: LocalModeProcess | undefined;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kubeport-audit-sigterm-'));
    dataDir = join(dir, 'data');
    env = userShellEnv(dir);
  });
  afterAll(async () => {
    await local?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('leaves exactly one kube.request event for every answered request', async () => {
    local = await startLocalModeProcess({ dataDir, extraArgs: ['--demo', '--drain-timeout', '2s'], env });
    await addKubeUser(local, dataDir, env, 'alice');
    const target = await kubeTarget(env, dir);

    // Four clients, each one request after another, as long as the agent answers.
    const answered: string[] = [];
    let unanswered = 0;
    let stopping = false;
    const agent = new Agent({ keepAlive: true, maxSockets: 4 });
    const client = async (n: number) => {
      for (let i = n; !stopping; i++) {
        const auditId = await get(target, agent, PATHS[i % PATHS.length]!);
        if (auditId) answered.push(auditId);
        else if (++unanswered > 20) return;
      }
    };
    const clients = Promise.all([0, 1, 2, 3].map(client));

    await expect.poll(() => answered.length, { timeout: 20_000 }).toBeGreaterThan(150);
    const first = local;
    const exited = new Promise<number | null>((resolve) => first.child.once('exit', (code) => resolve(code)));
    first.child.kill('SIGTERM');
    expect(await exited).toBe(0);
    stopping = true;
    await clients;
    agent.destroy();
    expect(first.output()).toMatch(/audit at shutdown: written \d+, spooled \d+, dropped 0, pending \d+/);

    // What was spooled at shutdown is replayed by the next start on the same data directory.
    const spoolDir = join(dataDir, 'audit-spool');
    const spooled = () => readdirSync(spoolDir).filter((name) => name.endsWith('.jsonl')).length;
    if (spooled() > 0) {
      local = await startLocalModeProcess({ dataDir, extraArgs: ['--demo'], env });
      await expect.poll(spooled, { timeout: 20_000 }).toBe(0);
      expect(await local.stop()).toBe(0);
    }
    local = undefined;

    const dynamo = await startEmbeddedDynamoDb({ dataDir: join(dataDir, 'dynamodb') });
    const dynamoClient = makeDynamoClient({ socketPath: dynamo.socketPath, region: 'local' });
    const s3 = await startEmbeddedS3({ dataDir: join(dataDir, 's3'), buckets: ['kubeport-audit'] });
    const s3Client = makeS3Client({ socketPath: s3.socketPath, region: 'local', forcePathStyle: true });
    try {
      const stored = await scanAuditEvents(dynamoClient, tableNamesWithPrefix('kubeport-').audit);
      const requests = countByUid(stored.filter((event) => event.event === 'kube.request'));
      const notOnce = answered.filter((id) => requests.get(id) !== 1).map((id) => `${id}: ${requests.get(id) ?? 0}`);
      expect(answered.length).toBeGreaterThan(150);
      expect(notOnce).toEqual([]);
      // The archive took them too, by the shutdown's flush at the latest.
      const archived = new Set((await archivedObjects(s3Client, 'kubeport-audit')).flat().map((event) => event.uid));
      expect(answered.filter((id) => !archived.has(id))).toEqual([]);
    } finally {
      dynamoClient.destroy();
      s3Client.destroy();
      await dynamo.close();
      await s3.close();
    }
  }, 90_000);
});
