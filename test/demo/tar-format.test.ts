// The demo shell's tar format against GNU tar, the tool kubectl cp expects in a pod: archives GNU
// tar writes (ustar, GNU long names, PAX) read back by the demo's reader whatever the chunk
// sizes, and archives the demo writes unpacked by GNU tar to the same bytes.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TarReader, archiveEnd, entryHeader, padding } from '../../lib/demo/shell/tar-format.js';

const longDir = `${'d'.repeat(60)}/${'e'.repeat(60)}`;

/** What the reader makes of `archive` fed in pieces of `piece` bytes: entries with their data. */
function read(archive: Buffer, piece: number) {
  const entries: Array<{ name: string; type: string; data: Buffer }> = [];
  let chunks: Buffer[] = [];
  const reader = new TarReader({
    entry: (e) => entries.push({ name: e.name, type: e.type, data: Buffer.alloc(0) }),
    data: (chunk) => chunks.push(Buffer.from(chunk)),
    end: () => {
      entries.at(-1)!.data = Buffer.concat(chunks);
      chunks = [];
    },
  });
  for (let at = 0; at < archive.length && !reader.finished; at += piece) reader.feed(archive.subarray(at, at + piece));
  return { entries, finished: reader.finished };
}

describe('tar format', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kubeport-tar-'));
  const binary = randomBytes(70_000);
  mkdirSync(join(dir, 'src', longDir), { recursive: true });
  writeFileSync(join(dir, 'src', 'small.txt'), 'hello\n');
  writeFileSync(join(dir, 'src', longDir, 'binary.bin'), binary);
  writeFileSync(join(dir, 'src', 'empty'), '');

  for (const format of ['gnu', 'pax', 'ustar'] as const) {
    it(`reads what GNU tar writes as ${format}, in 1-byte, 511-byte and 64 KiB pieces`, () => {
      const archive = execFileSync('tar', [`--format=${format}`, '-cf', '-', '-C', join(dir, 'src'), 'small.txt', 'empty', longDir]);
      for (const piece of [1, 511, 65_536]) {
        const { entries, finished } = read(archive, piece);
        expect(finished).toBe(true);
        const byName = new Map(entries.map((e) => [e.name.replace(/\/$/, ''), e]));
        expect(byName.get('small.txt')?.data.toString()).toBe('hello\n');
        expect(byName.get('empty')?.data.length).toBe(0);
        expect(byName.get(longDir)?.type).toBe('directory');
        expect(byName.get(`${longDir}/binary.bin`)?.data.equals(binary)).toBe(true);
      }
    });
  }

  it('writes archives GNU tar unpacks to the same bytes, long names included', () => {
    const name = `${longDir}/${'f'.repeat(30)}.bin`;
    const mtime = Date.now();
    const parts = [
      ...entryHeader({ name: `${longDir.split('/')[0]}/`, type: 'directory', size: 0, mtime }),
      ...entryHeader({ name: `${longDir}/`, type: 'directory', size: 0, mtime }),
      ...entryHeader({ name, type: 'file', size: binary.length, mtime }),
      binary,
      padding(binary.length),
      archiveEnd(),
    ];
    const out = join(dir, 'out');
    mkdirSync(out);
    execFileSync('tar', ['-xf', '-', '-C', out], { input: Buffer.concat(parts) });
    expect(readFileSync(join(out, name)).equals(binary)).toBe(true);
  });

  it('refuses a header whose checksum is wrong', () => {
    const archive = Buffer.concat([...entryHeader({ name: 'x', type: 'file', size: 0, mtime: 0 }), archiveEnd()]);
    archive[0] = 'y'.charCodeAt(0);
    expect(() => read(archive, 512)).toThrow('This does not look like a tar archive');
  });
});
