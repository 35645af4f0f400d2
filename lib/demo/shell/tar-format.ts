// The tar format, as much as kubectl cp needs: ustar headers written (GNU long names beyond 100
// bytes), and read incrementally from chunks of any size (ustar, GNU long names, PAX path and
// size records), file data handed on as it arrives rather than gathered into one buffer.

const BLOCK = 512;

export interface TarEntry {
  name: string;
  type: 'file' | 'directory' | 'other';
  size: number;
  mode: number;
}

function octal(value: number, width: number): string {
  return value.toString(8).padStart(width - 1, '0') + '\0';
}

function rawHeader(name: string, typeflag: string, size: number, mode: number, mtime: number): Buffer {
  const block = Buffer.alloc(BLOCK);
  block.write(name.slice(0, 100), 0, 'utf8');
  block.write(octal(mode, 8), 100, 'ascii');
  block.write(octal(0, 8), 108, 'ascii'); // uid root
  block.write(octal(0, 8), 116, 'ascii'); // gid root
  block.write(octal(size, 12), 124, 'ascii');
  block.write(octal(Math.floor(mtime / 1000), 12), 136, 'ascii');
  block.write(' '.repeat(8), 148, 'ascii');
  block.write(typeflag, 156, 'ascii');
  block.write('ustar  \0', 257, 'ascii'); // GNU magic and version, as GNU tar writes
  block.write('root', 265, 'ascii');
  block.write('root', 297, 'ascii');
  let sum = 0;
  for (const byte of block) sum += byte;
  block.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'ascii');
  return block;
}

/** The header block(s) of one entry; a name over 100 bytes goes first in a GNU 'L' entry. */
export function entryHeader(entry: { name: string; type: 'file' | 'directory'; size: number; mtime: number }): Buffer[] {
  const mode = entry.type === 'directory' ? 0o755 : 0o644;
  const flag = entry.type === 'directory' ? '5' : '0';
  const nameBytes = Buffer.from(entry.name);
  if (nameBytes.length <= 100) return [rawHeader(entry.name, flag, entry.size, mode, entry.mtime)];
  const longName = Buffer.concat([nameBytes, Buffer.alloc(1)]);
  return [
    rawHeader('././@LongLink', 'L', longName.length, 0o644, entry.mtime),
    padded(longName),
    rawHeader(entry.name, flag, entry.size, mode, entry.mtime),
  ];
}

/** Zero bytes that complete a block after `size` bytes of data. */
export const padding = (size: number) => Buffer.alloc((BLOCK - (size % BLOCK)) % BLOCK);
const padded = (data: Buffer) => Buffer.concat([data, padding(data.length)]);
/** Two zero blocks end an archive. */
export const archiveEnd = () => Buffer.alloc(2 * BLOCK);

function field(block: Buffer, start: number, length: number): string {
  const raw = block.subarray(start, start + length);
  const end = raw.indexOf(0);
  return raw.subarray(0, end < 0 ? length : end).toString('utf8');
}

function number(block: Buffer, start: number, length: number): number {
  // Base-256 (GNU) when the high bit is set: sizes of 8 GiB and more.
  if (block[start]! & 0x80) {
    let value = block[start]! & 0x7f;
    for (let i = 1; i < length; i++) value = value * 256 + block[start + i]!;
    return value;
  }
  const text = field(block, start, length).trim();
  return text === '' ? 0 : parseInt(text, 8);
}

export interface TarSink {
  /** An entry begins; its data (for files) follows in `data` calls, then `end`. */
  entry(entry: TarEntry): void;
  data(chunk: Buffer): void;
  end(): void;
}

/** Reads an archive fed in chunks; throws on a damaged header. */
export class TarReader {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** Bytes of the current entry's data still to come, then the padding to skip. */
  private dataLeft = 0;
  private skipLeft = 0;
  private meta: 'pax' | 'global' | 'longname' | undefined;
  private metaBuffer: Buffer[] = [];
  private overrides: { path?: string; size?: number } = {};
  private zeroBlocks = 0;
  finished = false;

  constructor(private readonly sink: TarSink) {}

  feed(chunk: Buffer): void {
    let at = 0;
    while (at < chunk.length && !this.finished) {
      if (this.dataLeft > 0) {
        const take = Math.min(this.dataLeft, chunk.length - at);
        const piece = chunk.subarray(at, at + take);
        if (this.meta) this.metaBuffer.push(piece);
        else this.sink.data(piece);
        this.dataLeft -= take;
        at += take;
        if (this.dataLeft === 0) this.entryDone();
        continue;
      }
      if (this.skipLeft > 0) {
        const take = Math.min(this.skipLeft, chunk.length - at);
        this.skipLeft -= take;
        at += take;
        continue;
      }
      const take = Math.min(BLOCK - this.pendingBytes, chunk.length - at);
      this.pending.push(chunk.subarray(at, at + take));
      this.pendingBytes += take;
      at += take;
      if (this.pendingBytes === BLOCK) {
        const block = Buffer.concat(this.pending);
        this.pending = [];
        this.pendingBytes = 0;
        this.header(block);
      }
    }
  }

  private header(block: Buffer): void {
    if (block.every((b) => b === 0)) {
      if (++this.zeroBlocks === 2) this.finished = true;
      return;
    }
    this.zeroBlocks = 0;
    let sum = 0;
    for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 32 : block[i]!;
    if (sum !== number(block, 148, 8)) throw new Error('This does not look like a tar archive');
    const flag = String.fromCharCode(block[156]!);
    const size = this.overrides.size ?? number(block, 124, 12);
    const prefix = block.subarray(257, 262).toString() === 'ustar' && block[263] === 0x30 ? field(block, 345, 155) : '';
    const name = this.overrides.path ?? (prefix ? `${prefix}/${field(block, 0, 100)}` : field(block, 0, 100));
    this.skipLeft = 0;
    if (flag === 'x' || flag === 'g' || flag === 'L') {
      this.meta = flag === 'L' ? 'longname' : flag === 'x' ? 'pax' : 'global';
      this.metaBuffer = [];
      this.startData(number(block, 124, 12));
      return;
    }
    this.overrides = {};
    const type = flag === '0' || flag === '\0' || flag === '7' ? 'file' : flag === '5' ? 'directory' : 'other';
    this.sink.entry({ name, type, size: type === 'file' ? size : 0, mode: number(block, 100, 8) });
    this.startData(type === 'directory' ? 0 : size);
  }

  private startData(size: number): void {
    this.dataLeft = size;
    this.skipLeft = (BLOCK - (size % BLOCK)) % BLOCK;
    if (size === 0) this.entryDone();
  }

  private entryDone(): void {
    if (!this.meta) return this.sink.end();
    const data = Buffer.concat(this.metaBuffer).toString('utf8');
    if (this.meta === 'longname') this.overrides.path = data.replace(/\0+$/, '');
    else if (this.meta === 'pax') {
      // PAX records: "LENGTH key=value\n".
      for (const record of data.split('\n')) {
        const m = /^\d+ ([^=]+)=(.*)$/s.exec(record);
        if (m?.[1] === 'path') this.overrides.path = m[2];
        if (m?.[1] === 'size') this.overrides.size = Number(m[2]);
      }
    }
    this.meta = undefined;
    this.metaBuffer = [];
  }
}
