// The real kubectl exec -it at a real terminal (tmux) through the real agent, over WebSocket and
// SPDY, leaves a recording in S3 that shows what the terminal showed; and npm start killed mid-
// session (SIGKILL: no drain, no last part) leaves a recording that still plays.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeS3Client } from '../../lib/adapters/aws/clients.js';
import { S3RecordingStore } from '../../lib/adapters/aws/s3-recording-store.js';
import type { EmbeddedStore } from '../../lib/adapters/local/embedded-dynamodb.js';
import { startEmbeddedS3 } from '../../lib/adapters/local/embedded-s3.js';
import { castOutputText, parseCast } from '../../lib/core/asciicast.js';
import { type AgentHarness, startAgentHarness } from '../support/agent-harness.js';
import { type KubectlUser, kubectlUser } from '../support/agent-kubeconfig.js';

import { type LocalModeProcess, addKubeUser, startLocalModeProcess, userShellEnv } from '../support/local-mode-process.js';
import { podUserRole } from '../support/roles.js';
import { openTerminal } from '../support/tmux-terminal.js';

const TRANSPORTS = [
  { name: 'WebSocket', env: {} },
  { name: 'SPDY', env: { KUBECTL_REMOTE_COMMAND_WEBSOCKETS: 'false' } },
] as const;

/** Printable text, as a terminal shows it: no escape sequences, CR LF as LF, trailing spaces gone. */
const shown = (text: string) =>
  text
    .replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '')
    .replace(/\r\n/g, '\n')
    .replace(/ +\n/g, '\n');

/** Everything stored under `dir` on disk, as text: what the embedded S3 has written so far. */
function storedText(dir: string): string {
  if (!existsSync(dir)) return '';
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => readFileSync(join(entry.parentPath, entry.name), 'latin1'))
    .join('');
}

async function recordedSessions(client: S3Client, bucket: string): Promise<string[]> {
  const listed = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'sessions/' }));
  return [...new Set((listed.Contents ?? []).map((o) => o.Key!.split('/')[1]!))];
}

describe.each(TRANSPORTS)('kubectl exec -it over $name, recorded', (transport) => {
  let dir: string;
  let s3: EmbeddedStore;
  let s3Client: S3Client;
  let store: S3RecordingStore;
  let h: AgentHarness;
  let alice: KubectlUser;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kubeport-exec-recording-'));
    s3 = await startEmbeddedS3({ dataDir: join(dir, 's3'), buckets: ['kubeport-recordings'] });
    s3Client = makeS3Client({ socketPath: s3.socketPath, region: 'local', forcePathStyle: true });
    store = new S3RecordingStore(s3Client, 'kubeport-recordings');
    h = await startAgentHarness({ recordings: store });
    h.roles.set('pod-user', podUserRole());
    alice = kubectlUser(h, join(dir, 'alice'), 'alice', await h.issue({ username: 'alice', roles: ['pod-user'] }));
  });
  afterAll(async () => {
    await h?.close();
    s3Client?.destroy();
    await s3?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('leaves a recording sized as the terminal, with its resize, whose output is what the terminal showed', async () => {
    const screen = await openTerminal('kubectl exec -it web-0 -- sh', {
      PATH: process.env.PATH,
      HOME: alice.home,
      KUBECONFIG: alice.env.KUBECONFIG,
      KUBECACHEDIR: alice.env.KUBECACHEDIR,
      ...transport.env,
    });
    try {
      await screen.waitForFirstPrompt(/root@web-0:\/#$/m);
      await screen.type('echo recorded over the wire');
      await screen.keys('Enter');
      await screen.waitFor(/^recorded over the wire$/m);
      await screen.resize(120, 40);
      await screen.type('stty size');
      await screen.keys('Enter');
      await screen.waitFor(/^40 120$/m);
      await screen.type('exit');
      await screen.keys('Enter');
      await screen.waitFor(/\[exit 0\]/);
      const terminal = await screen.screen();

      await expect.poll(() => recordedSessions(s3Client, 'kubeport-recordings'), { timeout: 10_000 }).toHaveLength(1);
      const [sid] = await recordedSessions(s3Client, 'kubeport-recordings');
      await expect.poll(async () => parseCast((await store.read(sid!))!.toString()).events.length > 0).toBe(true);
      const cast = parseCast((await store.read(sid!))!.toString());
      expect([cast.header.width, cast.header.height]).toEqual([100, 30]);
      expect(cast.header.kubeport).toMatchObject({ user: 'alice', pod: 'web-0', type: 'exec' });
      expect(cast.events.filter((e) => e[1] === 'r').map((e) => e[2])).toContain('120x40');
      const output = shown(castOutputText(cast.events));
      // Everything the session printed is on the screen, in the same order.
      expect(terminal).toContain(output.trimEnd().split('\n').slice(-4, -1).join('\n'));
      expect(output).toContain('root@web-0:/# echo recorded over the wire\nrecorded over the wire\n');
      expect(output).toContain('stty size\n40 120\n');
    } finally {
      await screen.close();
    }
  }, 60_000);
});

describe('npm start killed with SIGKILL while kubectl exec -it runs', () => {
  let dir: string;
  let local: LocalModeProcess | undefined;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'kubeport-killed-'));
    mkdirSync(join(dir, 'home'));
  });
  afterAll(async () => {
    if (local && local.child.exitCode === null && local.child.signalCode === null) local.child.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  });

  it('leaves a recording that plays up to the last part stored', async () => {
    const env = userShellEnv(dir);
    const dataDir = join(dir, 'data');
    local = await startLocalModeProcess({ dataDir, extraArgs: ['--demo'], env });
    await addKubeUser(local, dataDir, env, 'alice');

    const screen = await openTerminal('kubectl exec -it web-0 -- sh', {
      PATH: process.env.PATH,
      HOME: env.HOME,
      TSH_HOME: env.TSH_HOME,
      KUBECONFIG: env.KUBECONFIG,
      KUBECACHEDIR: env.KUBECACHEDIR,
    });
    try {
      await screen.waitForFirstPrompt(/root@web-0:\/#$/m, 30_000);
      await screen.type('echo before the kill');
      await screen.keys('Enter');
      await screen.waitFor(/^before the kill$/m);
      // A part is stored at least every 5 s while the session runs (seen on the embedded S3's disk); then the process dies at once.
      await expect.poll(() => storedText(join(dataDir, 's3', 'kubeport-recordings')), { timeout: 15_000 }).toContain('before the kill');
      const gone = new Promise((resolve) => local!.child.once('exit', resolve));
      local.child.kill('SIGKILL');
      await gone;
    } finally {
      await screen.close();
    }

    const s3 = await startEmbeddedS3({ dataDir: join(dataDir, 's3'), buckets: [] });
    const client = makeS3Client({ socketPath: s3.socketPath, region: 'local', forcePathStyle: true });
    try {
      const [sid] = await recordedSessions(client, 'kubeport-recordings');
      expect(sid).toBeDefined();
      const cast = parseCast((await new S3RecordingStore(client, 'kubeport-recordings').read(sid!))!.toString());
      expect(cast.header.kubeport).toMatchObject({ user: 'alice', pod: 'web-0' });
      expect(shown(castOutputText(cast.events))).toContain('echo before the kill\nbefore the kill\n');
    } finally {
      client.destroy();
      await s3.close();
    }
  }, 90_000);
});
