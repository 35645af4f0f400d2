// The demo shell over the real wire protocol (v5.channel.k8s.io WebSocket frames), as kubectl
// speaks it with and without -t: keys in on channel 0, sizes on 4, output on 1 (and 2 without a
// terminal), the exit status on 3.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { type KubeApiServer, type PemPair, startKubeApiServer } from '../../lib/demo/kube-apiserver.js';

let server: KubeApiServer;
let client: PemPair;

beforeAll(async () => {
  server = await startKubeApiServer();
  client = await server.issueClientCert('kubeport-agent');
});
afterAll(() => server?.close());

interface Exec {
  send(channel: number, data: string): void;
  /** Resolves once channel `channel`'s output so far contains `text`. */
  until(text: string, channel?: number): Promise<string>;
  output(channel?: number): string;
  /** The Status on channel 3, once the server has closed. */
  status: Promise<{ status: string; details?: { causes: Array<{ message: string }> } }>;
}

function exec(command: string[], flags: { tty?: boolean; stdin?: boolean; stderr?: boolean }): Promise<Exec> {
  const query = new URLSearchParams();
  for (const c of command) query.append('command', c);
  if (flags.stderr) query.set('stderr', 'true');
  if (flags.stdin) query.set('stdin', 'true');
  query.set('stdout', 'true');
  if (flags.tty) query.set('tty', 'true');
  const ws = new WebSocket(`wss${server.url.slice(5)}/api/v1/namespaces/default/pods/web-0/exec?${query}`, 'v5.channel.k8s.io', {
    ca: server.caPem,
    cert: client.certPem,
    key: client.keyPem,
  });
  const received = new Map<number, string>();
  const watchers: Array<() => void> = [];
  let statusText = '';
  ws.on('message', (data: Buffer) => {
    const channel = data[0]!;
    if (channel === 3) statusText += data.subarray(1).toString();
    else received.set(channel, (received.get(channel) ?? '') + data.subarray(1).toString());
    for (const watcher of [...watchers]) watcher();
  });
  const status = new Promise<Exec['status'] extends Promise<infer S> ? S : never>((resolve) =>
    ws.on('close', () => resolve(JSON.parse(statusText))),
  );
  const output = (channel = 1) => received.get(channel) ?? '';
  return new Promise((resolve, reject) => {
    ws.on('error', reject);
    ws.on('open', () =>
      resolve({
        send: (channel, data) => ws.send(Buffer.concat([Buffer.from([channel]), Buffer.from(data)])),
        output,
        status,
        until: (text, channel = 1) =>
          new Promise((done, fail) => {
            const timer = setTimeout(() => fail(new Error(`no ${JSON.stringify(text)} in ${JSON.stringify(output(channel))}`)), 5000);
            const check = () => {
              if (!output(channel).includes(text)) return;
              clearTimeout(timer);
              watchers.splice(watchers.indexOf(check), 1);
              done(output(channel));
            };
            watchers.push(check);
            check();
          }),
      }),
    );
  });
}

const exitCode = (s: Awaited<Exec['status']>) => (s.status === 'Success' ? 0 : Number(s.details?.causes[0]?.message));

describe('the demo shell with a terminal (kubectl exec -it)', () => {
  it('prompts, echoes what is typed, answers with CR LF, and ends on exit with its code', async () => {
    const sh = await exec(['sh'], { tty: true, stdin: true });
    await sh.until('root@web-0:/# ');
    sh.send(0, 'echo hix\x7f\r');
    await sh.until('echo hix\b \b\r\nhi\r\nroot@web-0:/# ');
    sh.send(0, 'exit 3\r');
    expect(exitCode(await sh.status)).toBe(3);
  });

  it('merges stderr into stdout and never opens channel 2, which kubectl has not got with -t', async () => {
    const sh = await exec(['sh'], { tty: true, stdin: true });
    sh.send(0, 'nosuch\r');
    await sh.until("sh: nosuch: not found (type help for the demo's commands)\r\nroot@web-0:/# ");
    // Ctrl-D leaves with the last command's status, as sh does.
    sh.send(0, '\x04');
    expect(exitCode(await sh.status)).toBe(127);
    expect(sh.output(2)).toBe('');
    expect(sh.output()).toMatch(/exit\r\n$/);
  });

  it('clears the line on Ctrl-C and stops a running command with it; Ctrl-D leaves', async () => {
    const sh = await exec(['sh'], { tty: true, stdin: true });
    sh.send(0, 'half a line\x03');
    await sh.until('half a line^C\r\nroot@web-0:/# ');
    sh.send(0, 'sleep 600\r');
    await sh.until('sleep 600\r\n');
    sh.send(0, '\x03');
    await sh.until('^C\r\nroot@web-0:/# ');
    sh.send(0, 'cat\rtyped\r');
    await sh.until('typed\r\ntyped\r\n');
    sh.send(0, '\x04');
    await sh.until('typed\r\ntyped\r\nroot@web-0:/# ');
    sh.send(0, '\x04');
    expect(exitCode(await sh.status)).toBe(0);
  });

  it('follows resize messages', async () => {
    const sh = await exec(['sh'], { tty: true, stdin: true });
    sh.send(4, '{"Width":120,"Height":40}\n');
    sh.send(0, 'stty size; tput cols\r');
    await sh.until('\r\n40 120\r\n120\r\n');
    sh.send(4, '{"Width":70,"Height":20}\n');
    sh.send(0, 'stty size\r');
    await sh.until('\r\n20 70\r\n');
    sh.send(0, 'exit\r');
    expect(exitCode(await sh.status)).toBe(0);
  });

  it('runs cat alone at a terminal until Ctrl-C, reported as exit code 130', async () => {
    const cat = await exec(['cat'], { tty: true, stdin: true });
    cat.send(0, 'hello\r');
    await cat.until('hello\r\nhello\r\n');
    cat.send(0, '\x03');
    expect(exitCode(await cat.status)).toBe(130);
  });

  it('shows its own pod and file system, and nothing of the host', async () => {
    const sh = await exec(['sh'], { tty: true, stdin: true });
    sh.send(0, 'hostname; whoami; cat /etc/hostname; ls /etc; cat /etc/passwd\r');
    const out = await sh.until('No such file or directory');
    expect(out).toContain(
      '\r\nweb-0\r\nroot\r\nweb-0\r\nhostname  hosts  os-release  resolv.conf\r\ncat: /etc/passwd: No such file or directory',
    );
    sh.send(0, 'exit\r');
    await sh.status;
  });
});

describe('the demo shell without a terminal', () => {
  it('keeps stderr on channel 2, runs sh -c, and reads a script from stdin', async () => {
    const missing = await exec(['nosuch'], { stderr: true });
    expect(exitCode(await missing.status)).toBe(127);
    expect(missing.output(2)).toContain('sh: nosuch: not found');
    expect(missing.output(1)).toBe('');

    const script = await exec(['sh', '-c', 'echo "a  b" $HOSTNAME; exit 4'], {});
    expect(exitCode(await script.status)).toBe(4);
    expect(script.output()).toBe('a  b web-0\n');

    const piped = await exec(['sh'], { stdin: true });
    piped.send(0, 'echo one\npwd\n');
    await piped.until('one\n/\n');
    piped.send(255, '\x00');
    expect(exitCode(await piped.status)).toBe(0);
  });

  it('echoes stdin back through cat byte for byte until stdin closes', async () => {
    const cat = await exec(['cat'], { stdin: true });
    cat.send(0, 'raw\r\nbytes\x03\x04');
    await cat.until('raw\r\nbytes\x03\x04');
    cat.send(255, '\x00');
    expect(exitCode(await cat.status)).toBe(0);
  });
});
