// The demo shell's commands that write files: tar (what `kubectl cp` runs: `tar cf - PATH` to
// copy out of the pod, `tar -xmf - -C DIR` to copy in), test (kubectl cp asks `test -d DEST`
// first), mkdir and rm. tar streams: an archive is written a block and a file's data at a time,
// and one read from standard input is unpacked as it arrives, each file's bytes gathered only into
// that file. A pod's files may hold POD_FS_LIMIT_BYTES in all.
import { createHash } from 'node:crypto';
import type { Builtin, CommandIo, ShellState } from './builtins.js';
import { type FakeFs, POD_FS_LIMIT_BYTES, listDirectory, makeDirectories, resolvePath, usedBytes } from './fake-fs.js';
import { TarReader, archiveEnd, entryHeader, padding } from './tar-format.js';

const CHUNK = 64 << 10;

interface TarOptions {
  mode?: 'create' | 'extract' | 'list';
  file?: string;
  directory?: string;
  verbose: boolean;
  paths: string[];
}

/** GNU tar's argument forms: bundled first word (cf), dashed bundles (-xmf), and -C DIR anywhere. */
function tarOptions(args: string[]): TarOptions | string {
  const options: TarOptions = { verbose: false, paths: [] };
  const rest = [...args];
  const bundle = (letters: string): string | undefined => {
    for (const letter of letters) {
      if (letter === 'c') options.mode = 'create';
      else if (letter === 'x') options.mode = 'extract';
      else if (letter === 't') options.mode = 'list';
      else if (letter === 'f') options.file = rest.shift();
      else if (letter === 'C') options.directory = rest.shift();
      else if (letter === 'v') options.verbose = true;
      else if (!'mpo'.includes(letter)) return `tar: option -${letter} is not supported by the demo shell (c, x, t, f, C, v, m)`;
    }
    return undefined;
  };
  if (rest[0] && !rest[0].startsWith('-')) {
    const problem = bundle(rest.shift()!);
    if (problem) return problem;
  }
  while (rest.length > 0) {
    const arg = rest.shift()!;
    if (arg === '--') options.paths.push(...rest.splice(0));
    else if (arg.startsWith('--directory=')) options.directory = arg.slice(12);
    else if (arg.startsWith('-') && arg.length > 1) {
      const problem = bundle(arg.slice(1));
      if (problem) return problem;
    } else options.paths.push(arg);
  }
  if (!options.mode) return "tar: You must specify one of the '-ctx' options";
  if (options.file !== undefined && options.file !== '-')
    return 'tar: the demo shell reads and writes archives on standard input and output only (f -)';
  return options;
}

function create(options: TarOptions, io: CommandIo, state: ShellState): number {
  if (options.paths.length === 0) {
    io.err('tar: Cowardly refusing to create an empty archive\n');
    return 2;
  }
  const base = resolvePath(state.cwd, options.directory ?? '.');
  let status = 0;
  let warned = false;
  const mtime = state.now().getTime();
  const add = (absolute: string, name: string) => {
    const content = state.fs.get(absolute);
    if (content === undefined) return;
    if (options.verbose) io.err(`${name}\n`);
    if (content === null) {
      for (const header of entryHeader({ name: `${name}/`, type: 'directory', size: 0, mtime })) io.out(header);
      for (const child of listDirectory(state.fs, absolute)) add(`${absolute === '/' ? '' : absolute}/${child}`, `${name}/${child}`);
      return;
    }
    const data = typeof content === 'string' ? Buffer.from(content) : content;
    for (const header of entryHeader({ name, type: 'file', size: data.length, mtime })) io.out(header);
    // Views of the stored bytes, a chunk at a time: nothing is copied into one big archive.
    for (let at = 0; at < data.length; at += CHUNK) io.out(data.subarray(at, at + CHUNK));
    io.out(padding(data.length));
  };
  for (const path of options.paths) {
    const absolute = path.startsWith('/') ? resolvePath('/', path) : resolvePath(base, path);
    if (state.fs.get(absolute) === undefined) {
      io.err(`tar: ${path}: Cannot stat: No such file or directory\n`);
      status = 2;
      continue;
    }
    let name = path.replace(/\/+$/, '') || '/';
    if (name.startsWith('/')) {
      if (!warned) io.err("tar: Removing leading `/' from member names\n");
      warned = true;
      name = name.replace(/^\/+/, '');
    }
    add(absolute, name || '.');
  }
  io.out(archiveEnd());
  if (status) io.err('tar: Exiting with failure status due to previous errors\n');
  return status;
}

async function extract(options: TarOptions, io: CommandIo, state: ShellState): Promise<number> {
  const base = resolvePath(state.cwd, options.directory ?? '.');
  if (state.fs.get(base) !== null) {
    io.err(`tar: ${options.directory}: Cannot open: No such file or directory\n`);
    return 2;
  }
  const fs: FakeFs = state.fs;
  let room = POD_FS_LIMIT_BYTES - usedBytes(fs);
  let failure: string | undefined;
  let file: { path: string; data: Buffer; filled: number } | undefined;
  const reader = new TarReader({
    entry: (entry) => {
      const path = resolvePath(base, entry.name);
      if (options.verbose || options.mode === 'list') io.out(`${entry.name}\n`);
      if (options.mode === 'list' || failure) return;
      if (entry.type === 'directory') {
        if (!makeDirectories(fs, path)) failure = `tar: ${entry.name}: Cannot mkdir: Not a directory`;
        return;
      }
      if (entry.type !== 'file') return; // links and devices are skipped
      const parent = path.slice(0, path.lastIndexOf('/')) || '/';
      if (fs.get(path) === null) failure = `tar: ${entry.name}: Cannot open: Is a directory`;
      else if (!makeDirectories(fs, parent)) failure = `tar: ${entry.name}: Cannot open: Not a directory`;
      else if (entry.size > room + Buffer.byteLength(fs.get(path) ?? ''))
        failure = `tar: ${entry.name}: Wrote only 0 of ${entry.size} bytes: No space left on device (the demo pod holds ${POD_FS_LIMIT_BYTES >> 20} MiB)`;
      else file = { path, data: Buffer.allocUnsafe(entry.size), filled: 0 };
    },
    data: (chunk) => {
      if (!file) return;
      chunk.copy(file.data, file.filled);
      file.filled += chunk.length;
    },
    end: () => {
      if (!file) return;
      room -= file.data.length - Buffer.byteLength(fs.get(file.path) ?? '');
      fs.set(file.path, file.data);
      file = undefined;
    },
  });
  try {
    for (let chunk = await io.read(); chunk !== null && !reader.finished; chunk = await io.read())
      reader.feed(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  } catch (error) {
    io.err(`tar: ${(error as Error).message}\ntar: Exiting with failure status due to previous errors\n`);
    return 2;
  }
  // Whatever follows the end of the archive is read and dropped, as GNU tar does.
  while (reader.finished && (await io.read()) !== null);
  if (failure) {
    io.err(`${failure}\ntar: Exiting with failure status due to previous errors\n`);
    return 2;
  }
  if (!reader.finished && file) {
    io.err('tar: Unexpected EOF in archive\ntar: Error is not recoverable: exiting now\n');
    return 2;
  }
  return 0;
}

const tar: Builtin = (args, io, state) => {
  const options = tarOptions(args);
  if (typeof options === 'string') {
    io.err(`${options}\n`);
    return 2;
  }
  return options.mode === 'create' ? create(options, io, state) : extract(options, io, state);
};

/** test -d|-f|-e|-s PATH, and test -n/-z STRING; anything else is false. */
const test: Builtin = (args, _io, state) => {
  const [op = '', operand = ''] = args;
  if (op === '-n') return operand !== '' ? 0 : 1;
  if (op === '-z') return operand === '' ? 0 : 1;
  const entry = state.fs.get(resolvePath(state.cwd, operand));
  if (op === '-d') return entry === null ? 0 : 1;
  if (op === '-f') return entry !== null && entry !== undefined ? 0 : 1;
  if (op === '-e') return entry !== undefined ? 0 : 1;
  if (op === '-s') return entry !== null && entry !== undefined && Buffer.byteLength(entry) > 0 ? 0 : 1;
  return args.length === 1 && op !== '' ? 0 : 1;
};

const mkdir: Builtin = (args, io, state) => {
  const parents = args.includes('-p');
  let status = 0;
  for (const arg of args.filter((a) => !a.startsWith('-'))) {
    const path = resolvePath(state.cwd, arg);
    const parent = path.slice(0, path.lastIndexOf('/')) || '/';
    const exists = state.fs.get(path) !== undefined;
    if ((exists && !parents) || (!parents && state.fs.get(parent) !== null) || !makeDirectories(state.fs, path)) {
      io.err(`mkdir: can't create directory '${arg}': ${exists ? 'File exists' : 'No such file or directory'}\n`);
      status = 1;
    }
  }
  return status;
};

const rm: Builtin = (args, io, state) => {
  const recursive = args.some((a) => /^-\w*[rR]/.test(a));
  const force = args.some((a) => /^-\w*f/.test(a));
  let status = 0;
  for (const arg of args.filter((a) => !a.startsWith('-'))) {
    const path = resolvePath(state.cwd, arg);
    const entry = state.fs.get(path);
    if (entry === undefined) {
      if (!force) io.err(`rm: can't remove '${arg}': No such file or directory\n`);
      status = force ? status : 1;
    } else if (entry === null && !recursive) {
      io.err(`rm: '${arg}' is a directory\n`);
      status = 1;
    } else if (path === '/') {
      io.err("rm: refusing to remove '/'\n");
      status = 1;
    } else for (const key of [...state.fs.keys()]) if (key === path || key.startsWith(`${path}/`)) state.fs.delete(key);
  }
  return status;
};

/** sha256sum FILE...: to compare a copy with its original without copying it back. */
const sha256sum: Builtin = (args, io, state) => {
  let status = 0;
  for (const arg of args) {
    const content = state.fs.get(resolvePath(state.cwd, arg));
    if (content === null || content === undefined) {
      io.err(`sha256sum: ${arg}: ${content === null ? 'Is a directory' : 'No such file or directory'}\n`);
      status = 1;
    } else io.out(`${createHash('sha256').update(content).digest('hex')}  ${arg}\n`);
  }
  return status;
};

export const fileBuiltins: Record<string, Builtin> = {
  mkdir,
  rm,
  sha256sum,
  tar,
  test,
  '[': (args, io, state) => test(args.slice(0, -1), io, state),
};
