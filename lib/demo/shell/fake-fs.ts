// The demo pod's file system: a handful of files made up from the pod's name, so that ls, cd and
// cat have something to show, and what `kubectl cp` puts there (tar.ts), binary data included,
// kept in memory for the life of the demo cluster. Nothing here touches the host's files.

/** Absolute path -> file content (text, or bytes as copied in), or null for a directory. */
export type FakeFs = Map<string, string | Buffer | null>;

/** What one pod's files may hold in all, so that copies cannot exhaust the demo cluster's memory. */
export const POD_FS_LIMIT_BYTES = 64 << 20;

export function usedBytes(fs: FakeFs): number {
  let total = 0;
  for (const content of fs.values()) if (content !== null) total += Buffer.byteLength(content);
  return total;
}

/** The pod's file system, made on first use and kept in `cache`, so that one exec sees what another wrote. */
export function podFiles(cache: Map<string, FakeFs>, pod: { name: string; namespace: string; ip: string }, commands: string[]): FakeFs {
  const key = `${pod.namespace}/${pod.name}`;
  let fs = cache.get(key);
  if (!fs) cache.set(key, (fs = podFileSystem(pod, commands)));
  return fs;
}

export function podFileSystem(pod: { name: string; namespace: string; ip: string }, commands: string[]): FakeFs {
  const files: Record<string, string> = {
    '/etc/hostname': `${pod.name}\n`,
    '/etc/hosts': `127.0.0.1\tlocalhost\n${pod.ip}\t${pod.name}\n`,
    '/etc/os-release': 'NAME="Kubeport demo"\nID=kubeport-demo\nPRETTY_NAME="Kubeport demo pod (built-in commands only)"\n',
    '/etc/resolv.conf': `search ${pod.namespace}.svc.cluster.local svc.cluster.local cluster.local\nnameserver 10.96.0.10\noptions ndots:5\n`,
    '/usr/share/nginx/html/index.html': `<!DOCTYPE html>\n<html><body><h1>Hello from ${pod.name}</h1></body></html>\n`,
    '/var/log/app.log': `${pod.name} log line 0\n`,
    '/var/run/secrets/kubernetes.io/serviceaccount/namespace': pod.namespace,
    ...Object.fromEntries(commands.map((c) => [`/bin/${c}`, `(${c} is built into the demo shell)\n`])),
  };
  const fs: FakeFs = new Map([['/', null]]);
  for (const [path, content] of Object.entries(files)) {
    const parts = path.split('/').slice(1);
    for (let i = 1; i < parts.length; i++) fs.set(`/${parts.slice(0, i).join('/')}`, null);
    fs.set(path, content);
  }
  for (const dir of ['/home', '/root', '/tmp']) fs.set(dir, null);
  return fs;
}

/** `path` made absolute against `cwd`, with . and .. resolved. */
export function resolvePath(cwd: string, path: string): string {
  const parts: string[] = [];
  for (const part of `${path.startsWith('/') ? '' : cwd}/${path}`.split('/')) {
    if (part === '..') parts.pop();
    else if (part && part !== '.') parts.push(part);
  }
  return `/${parts.join('/')}`;
}

/** Makes `dir` and its parents directories; false when one of them is a file. */
export function makeDirectories(fs: FakeFs, dir: string): boolean {
  const parts = dir.split('/').filter(Boolean);
  for (let i = 1; i <= parts.length; i++) {
    const path = `/${parts.slice(0, i).join('/')}`;
    const entry = fs.get(path);
    if (entry === undefined) fs.set(path, null);
    else if (entry !== null) return false;
  }
  return true;
}

/** Names directly inside directory `dir`, sorted. */
export function listDirectory(fs: FakeFs, dir: string): string[] {
  const prefix = dir === '/' ? '/' : `${dir}/`;
  return [...fs.keys()]
    .filter((p) => p !== dir && p.startsWith(prefix) && !p.slice(prefix.length).includes('/'))
    .map((p) => p.slice(prefix.length))
    .sort();
}
