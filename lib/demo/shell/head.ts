// head: the first bytes (-c N) or lines (-n N, default 10) of a file or of standard input. With
// /dev/zero it is the demo's way to produce a large output quickly (`head -c 268435456
// /dev/zero` for the exec throughput figure): it writes in 64 KiB pieces and waits for the
// transport between them, so N bytes are never held in memory.
import { resolvePath } from './fake-fs.js';
import type { CommandIo, ShellState } from './builtins.js';

const PIECE = 64 * 1024;
const ZEROS = Buffer.alloc(PIECE);
/** Sizes as head(1) reads them: a number with an optional K, M or G (powers of 1024). */
const SIZE = /^(\d+)([KMG]?)$/i;
const UNITS: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };

function parseArgs(args: string[]): { bytes?: number; lines: number; files: string[] } | { error: string } {
  let bytes: number | undefined;
  let lines = 10;
  const files: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const option = /^(-c|-n|--bytes=|--lines=)(.*)$/.exec(arg) ?? /^-(\d+)$/.exec(arg);
    if (!option) {
      files.push(arg);
      continue;
    }
    const [kind, inline] = option.length === 3 ? [option[1]!, option[2]!] : ['-n', option[1]!];
    const value = inline !== '' ? inline : args[++i];
    const size = SIZE.exec(value ?? '');
    if (!size)
      return { error: `head: invalid number of ${kind.includes('c') || kind.includes('bytes') ? 'bytes' : 'lines'}: '${value ?? ''}'` };
    const n = Number(size[1]) * UNITS[size[2]!.toLowerCase()]!;
    if (kind.startsWith('-c') || kind.startsWith('--bytes')) bytes = n;
    else lines = n;
  }
  return { bytes, lines, files };
}

export async function head(args: string[], io: CommandIo, state: ShellState): Promise<number> {
  const parsed = parseArgs(args);
  if ('error' in parsed) {
    io.err(`${parsed.error}\n`);
    return 1;
  }
  const take = (text: string) =>
    parsed.bytes !== undefined
      ? Buffer.from(text).subarray(0, parsed.bytes)
      : text
          .split(/(?<=\n)/)
          .slice(0, parsed.lines)
          .join('');
  let status = 0;
  for (const file of parsed.files.length ? parsed.files : ['-']) {
    if (file === '/dev/zero') {
      // Zeros have no lines: without -c, head would read for ever, as head(1) does.
      let left = parsed.bytes ?? Infinity;
      while (left > 0 && !io.signal.aborted) {
        const piece = left >= PIECE ? ZEROS : ZEROS.subarray(0, left);
        io.out(piece);
        left -= piece.length;
        await io.drain();
      }
    } else if (file === '-') {
      const chunks: string[] = [];
      for (let chunk = await io.read(); chunk !== null; chunk = await io.read()) chunks.push(chunk.toString());
      io.out(take(chunks.join('')));
    } else {
      const content = state.fs.get(resolvePath(state.cwd, file));
      if (typeof content === 'string') io.out(take(content));
      else {
        io.err(`head: cannot open '${file}' for reading: ${content === null ? 'Is a directory' : 'No such file or directory'}\n`);
        status = 1;
      }
    }
  }
  return status;
}
