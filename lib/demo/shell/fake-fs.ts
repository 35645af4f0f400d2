// The demo pod's file system: a handful of read-only files made up from the pod's name, so that
// ls, cd and cat have something to show. Nothing here touches the host's files.

/** Absolute path -> file content, or null for a directory. */
export type FakeFs = ReadonlyMap<string, string | null>;

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
  const fs = new Map<string, string | null>([['/', null]]);
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

/** Names directly inside directory `dir`, sorted. */
export function listDirectory(fs: FakeFs, dir: string): string[] {
  const prefix = dir === '/' ? '/' : `${dir}/`;
  return [...fs.keys()]
    .filter((p) => p !== dir && p.startsWith(prefix) && !p.slice(prefix.length).includes('/'))
    .map((p) => p.slice(prefix.length))
    .sort();
}
