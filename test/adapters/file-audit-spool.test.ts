import { execFile, spawnSync } from 'node:child_process';
import { appendFileSync, chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { FileAuditSpool, SpoolRefusedError } from '../../lib/adapters/local/file-audit-spool.js';
import type { AuditEvent } from '../../lib/core/ports.js';

const root = mkdtempSync(join(tmpdir(), 'audit-spool-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

let dirCounter = 0;
const freshDir = () => join(root, `spool-${++dirCounter}`);

const event = (n: number): AuditEvent => ({
  event: 'kube.request',
  code: 'T3009I',
  time: `2030-03-10T12:00:${String(n % 60).padStart(2, '0')}.000Z`,
  uid: `uid-${n}`,
  user: 'alice',
});
const events = (from: number, count: number) => Array.from({ length: count }, (_, i) => event(from + i));

async function open(dir: string, options: { maxBytes?: number; reserveBytes?: number; segmentEvents?: number } = {}) {
  const logged: string[] = [];
  const spool = await FileAuditSpool.open(dir, { ...options, log: (line) => logged.push(line) });
  return { spool, logged };
}

/** Takes everything out of the spool, oldest first, as a replay does. */
async function drain(spool: FileAuditSpool, max = 7): Promise<AuditEvent[]> {
  const out: AuditEvent[] = [];
  for (let chunk = await spool.peek(max); chunk; chunk = await spool.peek(max)) {
    out.push(...chunk.events);
    await chunk.done();
  }
  return out;
}

describe('FileAuditSpool', () => {
  it('gives back what was appended, oldest first, and is empty once each chunk is done', async () => {
    const { spool } = await open(freshDir(), { segmentEvents: 10 });
    await spool.append(events(0, 15));
    await spool.append(events(15, 12));
    expect(spool.size()).toBe(27);

    const first = await spool.peek(5);
    expect(first!.events.map((e) => e.uid)).toEqual(['uid-0', 'uid-1', 'uid-2', 'uid-3', 'uid-4']);
    // Not done yet: the same events come again.
    expect((await spool.peek(5))!.events.map((e) => e.uid)).toEqual(first!.events.map((e) => e.uid));
    await first!.done();
    expect(spool.size()).toBe(22);

    expect((await drain(spool)).map((e) => e.uid)).toEqual(events(5, 22).map((e) => e.uid));
    expect(spool.size()).toBe(0);
    expect(await spool.peek(5)).toBeUndefined();
    expect(readdirSync(spool.dir)).toEqual([]);
  });

  it('keeps appending while a segment is being replayed', async () => {
    const { spool } = await open(freshDir());
    await spool.append(events(0, 3));
    const chunk = await spool.peek(10);
    await spool.append(events(3, 2));
    await chunk!.done();
    expect((await drain(spool)).map((e) => e.uid)).toEqual(['uid-3', 'uid-4']);
  });

  it('hands a new process what an old one spooled and did not replay', async () => {
    const dir = freshDir();
    const first = await open(dir, { segmentEvents: 4 });
    await first.spool.append(events(0, 4));
    await first.spool.append(events(4, 4));
    await first.spool.append(events(8, 2));
    await (await first.spool.peek(4))!.done();
    await (await first.spool.peek(3))!.done();
    await first.spool.close();

    const second = await open(dir);
    // A replayed segment is gone; a partly replayed one is whole on disk, so its first events come
    // again (the store takes them as the same events: idempotent by time and uid).
    expect(second.spool.size()).toBe(6);
    expect((await drain(second.spool)).map((e) => e.uid)).toEqual(events(4, 6).map((e) => e.uid));
    await second.spool.append(events(10, 1));
    const third = await open(dir);
    expect((await drain(third.spool)).map((e) => e.uid)).toEqual(['uid-10']);
  });

  it('skips a line torn by a crash mid-write with a log line, and reads the rest', async () => {
    const dir = freshDir();
    const first = await open(dir);
    await first.spool.append(events(0, 3));
    await first.spool.close();
    const [segment] = readdirSync(dir);
    appendFileSync(join(dir, segment!), '{"event":"kube.request","uid":"uid-torn","ti');

    const second = await open(dir);
    expect(second.spool.size()).toBe(4);
    expect((await drain(second.spool)).map((e) => e.uid)).toEqual(['uid-0', 'uid-1', 'uid-2']);
    expect(second.spool.size()).toBe(0);
    expect(second.logged.join('\n')).toMatch(/skipping the torn last line of .*segment-\d+\.jsonl/);
    // New appends never follow the torn line: they start a segment of their own.
    await second.spool.append(events(3, 1));
    expect((await drain(second.spool)).map((e) => e.uid)).toEqual(['uid-3']);
  });

  it('refuses events beyond its size bound and takes them again once replayed', async () => {
    const { spool } = await open(freshDir(), { maxBytes: 1_000 });
    await spool.append(events(0, 5));
    await expect(spool.append(events(5, 20))).rejects.toBeInstanceOf(SpoolRefusedError);
    await expect(spool.append(events(5, 20))).rejects.toThrow(/is full .* 20 events refused/);
    expect(spool.size()).toBe(5);
    await drain(spool);
    await spool.append(events(5, 5));
    expect((await drain(spool)).map((e) => e.uid)).toEqual(events(5, 5).map((e) => e.uid));
  });

  it('says it has no room once appends reach into its reserve, while it still takes them, and has room again once replayed', async () => {
    const { spool } = await open(freshDir(), { maxBytes: 1_000, reserveBytes: 400 });
    // Each event is about 100 bytes: five fit below the reserve, the sixth reaches into it.
    for (let n = 0; n < 5; n++) await spool.append([event(n)]);
    expect(spool.hasRoom()).toBe(true);
    await spool.append([event(5)]);
    expect(spool.hasRoom()).toBe(false);
    await spool.append(events(6, 2));
    expect(spool.size()).toBe(8);
    await drain(spool);
    expect(spool.hasRoom()).toBe(true);
  });

  it('refuses events it cannot write, as a refusal the writer counts, and goes on with a fresh segment', async () => {
    const dir = freshDir();
    const { spool } = await open(dir, { segmentEvents: 1 });
    await spool.append(events(0, 1));
    // Something already holds the name of the next segment: the spool never writes through it.
    const [segment] = readdirSync(dir);
    const next = segment!.replace(/\d+/, (n) => String(Number(n) + 1).padStart(n.length, '0'));
    mkdirSync(join(dir, next));
    await expect(spool.append(events(1, 1))).rejects.toBeInstanceOf(SpoolRefusedError);
    await expect(spool.append(events(1, 1))).resolves.toBeUndefined();
    rmSync(join(dir, next), { recursive: true });
    expect((await drain(spool)).map((e) => e.uid)).toEqual(['uid-0', 'uid-1']);
  });

  it('keeps its directory and files to this account: mode 0700 and 0600', async () => {
    const dir = freshDir();
    const { spool } = await open(dir);
    await spool.append(events(0, 1));
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    for (const name of readdirSync(dir)) expect(statSync(join(dir, name)).mode & 0o777).toBe(0o600);
  });

  it('refuses a spool directory other accounts can read, rather than spool into it', async () => {
    const dir = freshDir();
    mkdirSync(dir, { mode: 0o755 });
    chmodSync(dir, 0o755);
    await expect(open(dir)).rejects.toThrow(/can be read or written by other accounts/);
  });

  it('refuses a symbolic link planted as the spool directory', async () => {
    const target = freshDir();
    mkdirSync(target, { mode: 0o700 });
    const dir = freshDir();
    const { symlinkSync } = await import('node:fs');
    symlinkSync(target, dir);
    await expect(open(dir)).rejects.toThrow(/is a symbolic link/);
  });

  const otherAccountSkip =
    process.getuid?.() !== 0
      ? 'needs root to act as another account'
      : spawnSync('runuser', ['--help']).error !== undefined
        ? 'needs runuser'
        : undefined;
  it.skipIf(otherAccountSkip !== undefined)(
    `cannot be read by another OS account${otherAccountSkip ? ` (skipped: ${otherAccountSkip})` : ''}`,
    async () => {
      // The spool's parent is open to all, as a home or data directory's parent may be.
      const parent = mkdtempSync(join(tmpdir(), 'audit-spool-open-'));
      chmodSync(parent, 0o755);
      try {
        const dir = join(parent, 'audit-spool');
        const { spool } = await open(dir);
        await spool.append(events(0, 1));
        const [segment] = readdirSync(dir);
        const read = (path: string) =>
          promisify(execFile)('runuser', ['-u', 'nobody', '--', 'cat', path], { encoding: 'utf8' }).then(
            () => 'read',
            (error: { stderr: string }) => error.stderr,
          );
        expect(await read(join(dir, segment!))).toMatch(/Permission denied/);
        // The control: that account reads a file of ours outside the spool.
        writeFileSync(join(parent, 'probe'), 'x');
        expect(await read(join(parent, 'probe'))).toBe('read');
      } finally {
        rmSync(parent, { recursive: true, force: true });
      }
    },
  );
});
