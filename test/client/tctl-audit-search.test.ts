// tctl audit search as an admin uses it, in this process and as the real tctl process, against
// the real API and audit table: the table it prints, the JSON, the next-page command it prints
// (run as printed), and what it refuses.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AuditSearchOptions, run as search } from '../../lib/client/commands/tctl-audit-search.js';
import type { AuditEvent } from '../../lib/core/ports.js';
import { cliPath, node } from '../support/cli.js';
import { type ClientHarness, startClientHarness, tctlRun } from './client-harness.js';

describe('tctl audit search', () => {
  let harness: ClientHarness;
  let at: (minutesAgo: number) => string;
  const events: AuditEvent[] = [];
  const tctl = async (options: AuditSearchOptions) => {
    const r = tctlRun(harness);
    await search(options, r.deps);
    return { stdout: r.stdout.text(), stderr: r.stderr.text() };
  };
  const refusal = (promise: Promise<unknown>) =>
    promise.then(
      () => {
        throw new Error('expected a refusal');
      },
      (error: Error) => error.message,
    );

  beforeAll(async () => {
    harness = await startClientHarness();
    const now = harness.clock.now().getTime();
    at = (minutesAgo) => new Date(now - minutesAgo * 60_000).toISOString();
    const agent = { kubernetes_cluster: 'prod', 'addr.remote': '127.0.0.1:50000', user_roles: ['access'] };
    events.push(
      { event: 'user.login', code: 'T1000W', time: at(50), uid: 'u-1', user: 'mallory', success: false, method: 'local' },
      {
        event: 'kube.request',
        code: 'T3009I',
        time: at(40),
        uid: '3f1e2d4c-0000-4000-8000-000000000001',
        audit_id: '3f1e2d4c-0000-4000-8000-000000000001',
        user: 'alice',
        verb: 'GET',
        request_path: '/api/v1/namespaces/web/pods',
        resource_namespace: 'web',
        response_code: 200,
        ...agent,
      },
      {
        event: 'exec',
        code: 'T3002I',
        time: at(30),
        uid: 'sess-1/exec',
        audit_id: '9a8b7c6d-0000-4000-8000-000000000002',
        sid: 'sess-1',
        user: 'alice',
        command: ['sh', '-c', 'echo \u001b]0;owned\u0007 hi'],
        exitCode: 0,
        kubernetes_pod_namespace: 'web',
        kubernetes_pod_name: 'api-0',
        ...agent,
      },
      {
        event: 'kube.request',
        code: 'T3009I',
        time: at(20),
        uid: 'b0b00000-0000-4000-8000-000000000003',
        audit_id: 'b0b00000-0000-4000-8000-000000000003',
        user: 'bob',
        verb: 'DELETE',
        request_path: '/api/v1/namespaces/db/pods/pg-0',
        resource_namespace: 'db',
        response_code: 403,
        ...agent,
        kubernetes_cluster: 'staging',
      },
    );
    await harness.deps.audit.write(events);
  });
  afterAll(() => harness?.close());

  it('prints the events of the last hour newest first as a table, without control characters', async () => {
    const { stdout, stderr } = await tctl({ since: '1h', type: undefined });
    const lines = stdout.split('\n').filter((line) => /T\d\d:\d\d:\d\dZ/.test(line) && !line.includes('kubeport-admin'));
    expect(stdout.split('\n')[0]).toMatch(/^TIME\s+EVENT\s+USER\s+CLUSTER\s+WHAT\s+RESULT\s+AUDIT-ID$/);
    expect(lines.map((line) => line.split(/\s{2,}|\s(?=\S)/)[0])).toEqual(
      [at(20), at(30), at(40), at(50)].map((t) => t.replace(/\.\d+Z$/, 'Z')),
    );
    expect(lines[0]).toMatch(/kube\.request\s+bob\s+staging\s+DELETE \/api\/v1\/namespaces\/db\/pods\/pg-0\s+403\s+b0b00000$/);
    expect(lines[1]).toMatch(/exec\s+alice\s+prod\s+sh -c echo  ]0;owned  hi\s+exit 0\s+9a8b7c6d$/);
    expect(lines[2]).toMatch(/kube\.request\s+alice\s+prod\s+GET \/api\/v1\/namespaces\/web\/pods\s+200\s+3f1e2d4c$/);
    expect(lines[3]).toMatch(/user\.login\s+mallory\s+local\s+failure$/);
    expect(stdout).not.toMatch(/[\u0000-\u0009\u000b-\u001f]/);
    expect(stderr).toBe('');
  });

  it('filters by user, type, cluster and namespace, and prints JSON', async () => {
    const json = async (options: AuditSearchOptions) =>
      (JSON.parse((await tctl({ ...options, format: 'json' })).stdout) as AuditEvent[]).map((e) => e.uid);
    expect(await json({ user: 'alice' })).toEqual(['sess-1/exec', events[1]!.uid]);
    expect(await json({ type: 'exec' })).toEqual(['sess-1/exec']);
    expect(await json({ cluster: 'staging' })).toEqual([events[3]!.uid]);
    expect(await json({ namespace: 'web', type: 'kube.request' })).toEqual([events[1]!.uid]);
    expect(await json({ session: 'sess-1' })).toEqual(['sess-1/exec']);
    expect(await json({ since: '45m', until: '25m' })).toEqual(['sess-1/exec', events[1]!.uid]);
    expect(await json({ since: at(45), until: at(35) })).toEqual([events[1]!.uid]);
    expect(await json({ user: 'nobody' })).toEqual([]);
  });

  it('prints on standard error the exact command for the next page, and those pages hold every event once', async () => {
    const seen: string[] = [];
    let options: AuditSearchOptions = { since: '55m', user: 'alice', limit: '1', format: 'json' };
    const commands: string[] = [];
    for (;;) {
      const { stdout, stderr } = await tctl(options);
      seen.push(...(JSON.parse(stdout) as AuditEvent[]).map((e) => e.uid));
      if (stderr === '') break;
      const command = /^More events match; next page: (tctl audit search .*)\n$/.exec(stderr)?.[1];
      expect(command).toBeDefined();
      commands.push(command!);
      options = Object.fromEntries([...command!.matchAll(/--([a-z]+)=(\S+)/g)].map((m) => [m[1], m[2]]));
    }
    expect(seen).toEqual(['sess-1/exec', events[1]!.uid]);
    expect(commands).toHaveLength(1);
    expect(commands[0]).toMatch(
      new RegExp(
        `^tctl audit search --since=${at(55).replace(/\./g, '\\.')} --until=\\S+ --user=alice --limit=1 --format=json --cursor=[A-Za-z0-9_-]+$`,
      ),
    );
  });

  it('refuses bad flags with a line that says what to write, and a cursor of another search', async () => {
    expect(await refusal(tctl({ since: 'last week' }))).toBe(
      '--since=last week is neither a duration back from now (30m, 1h, 7d) nor an RFC 3339 time (2026-12-02T10:00:00Z)',
    );
    expect(await refusal(tctl({ until: '2026-13-01T00:00:00Z' }))).toMatch(/^--until=2026-13-01T00:00:00Z is neither/);
    expect(await refusal(tctl({ since: '1h', until: '2h' }))).toMatch(
      /^--since \(.*\) is after --until \(.*\); give a --since before --until$/,
    );
    expect(await refusal(tctl({ limit: '5000' }))).toBe('--limit=5000 is not a number from 1 to 1000');
    expect(await refusal(tctl({ format: 'yaml' }))).toBe('--format=yaml is not a format; use text or json');
    const { stderr } = await tctl({ since: '55m', user: 'alice', limit: '1' });
    const cursor = /--cursor=(\S+)/.exec(stderr)![1]!;
    expect(await refusal(tctl({ since: '55m', user: 'bob', limit: '1', cursor }))).toMatch(
      /^cursor is not valid: it belongs to a search with other filters; pass the cursor the previous page printed/,
    );
    expect(await refusal(tctl({ cursor: 'tampered' }))).toMatch(/^cursor is not valid: it is not a cursor/);
  });
});

describe('tctl audit search as a process', () => {
  let harness: ClientHarness;
  beforeAll(async () => {
    harness = await startClientHarness();
    const now = Date.now();
    await harness.deps.audit.write(
      [1, 2, 3].map((i) => ({
        event: 'exec',
        code: 'T3002I',
        time: new Date(now - i * 60_000).toISOString(),
        uid: `x-${i}`,
        user: 'alice',
      })),
    );
  });
  afterAll(() => harness?.close());

  it('runs the next-page command it prints, as printed', async () => {
    const first = await node(cliPath('tctl'), [
      '--data-dir',
      harness.dataDir,
      'audit',
      'search',
      '--type=exec',
      '--limit=2',
      '--format=json',
    ]);
    expect(first.code).toBe(0);
    expect((JSON.parse(first.stdout) as AuditEvent[]).map((e) => e.uid)).toEqual(['x-1', 'x-2']);
    const next = /^More events match; next page: tctl (.*)\n$/.exec(first.stderr)?.[1];
    expect(next).toMatch(new RegExp(`^--data-dir=${harness.dataDir} audit search --since=\\S+ --until=\\S+ --type=exec --limit=2`));
    const second = await node(cliPath('tctl'), next!.split(' '));
    expect(second).toMatchObject({ code: 0, stderr: '' });
    expect((JSON.parse(second.stdout) as AuditEvent[]).map((e) => e.uid)).toEqual(['x-3']);
    const bad = await node(cliPath('tctl'), ['--data-dir', harness.dataDir, 'audit', 'search', '--since=soon']);
    expect(bad).toMatchObject({ code: 1, stdout: '' });
    expect(bad.stderr).toBe(
      'tctl: --since=soon is neither a duration back from now (30m, 1h, 7d) nor an RFC 3339 time (2026-12-02T10:00:00Z)\n',
    );
  });
});
