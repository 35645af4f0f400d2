// Exec clients for tests of sessions through the agent: WebSocket v5 (the ws library, masked
// frames as kubectl sends) and SPDY/3.1 (lib/spdy, streams as kubectl opens them), each able to
// type, resize and read what it was sent, so a test compares a recording with the bytes received.
import WebSocket from 'ws';
import type { AgentHarness, ClientCredentials } from './agent-harness.js';
import { postSpdyUpgrade } from './raw-exec.js';
import { type ClientStream, SpdyTestClient } from './spdy-client.js';

export interface ExecClient {
  /** stdout as received so far (stderr too, for a TTY, where there is none). */
  stdout(): Buffer;
  type(text: string): void;
  resize(width: number, height: number): void;
  /** Resolves once stdout contains `text`. */
  until(text: string, timeoutMs?: number): Promise<void>;
  /** The exit Status, once the session ended. */
  status: Promise<Record<string, unknown>>;
  close(): void;
}

const KUBECTL_SPDY_OFFERS = ['v5.channel.k8s.io', 'v4.channel.k8s.io', 'v3.channel.k8s.io', 'v2.channel.k8s.io', 'channel.k8s.io'];

function waitFor(read: () => Buffer, text: string, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const check = () => {
      if (read().toString().includes(text)) return resolve();
      if (Date.now() - started > timeoutMs) return reject(new Error(`no ${JSON.stringify(text)} in ${JSON.stringify(read().toString())}`));
      setTimeout(check, 10);
    };
    check();
  });
}

/** Opens `path` (below /k8s/<cluster>) over WebSocket v5 as `credentials`; resolves once upgraded. */
export function webSocketExec(h: AgentHarness, credentials: ClientCredentials, path: string): Promise<ExecClient> {
  const socket = new WebSocket(`wss://127.0.0.1:${h.port}${path}`, 'v5.channel.k8s.io', {
    ca: h.hostCa.certPem,
    cert: credentials.certPem,
    key: credentials.keyPem,
    // The agent's certificate names localhost; ws passes TLS options through to tls.connect.
    ...({ servername: 'localhost' } as object),
  });
  const chunks: Buffer[] = [];
  let statusText = '';
  socket.on('message', (data: Buffer) => {
    if (data[0] === 1 || data[0] === 2) chunks.push(Buffer.from(data.subarray(1)));
    if (data[0] === 3) statusText += data.subarray(1).toString();
  });
  const status = new Promise<Record<string, unknown>>((resolve) =>
    socket.on('close', () => resolve(statusText ? (JSON.parse(statusText) as Record<string, unknown>) : {})),
  );
  const send = (channel: number, data: string) => socket.send(Buffer.concat([Buffer.from([channel]), Buffer.from(data)]));
  const stdout = () => Buffer.concat(chunks);
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.once('unexpected-response', (_req, res) => reject(new Error(`no upgrade: ${res.statusCode}`)));
    socket.once('open', () =>
      resolve({
        stdout,
        type: (text) => send(0, text),
        resize: (width, height) => send(4, `${JSON.stringify({ Width: width, Height: height })}\n`),
        until: (text, timeoutMs = 5_000) => waitFor(stdout, text, timeoutMs),
        status,
        close: () => socket.terminate(),
      }),
    );
  });
}

/** Opens `path` over SPDY/3.1 as kubectl does (error, stdin, stdout, and resize or stderr streams). */
export async function spdyExec(h: AgentHarness, credentials: ClientCredentials, path: string): Promise<ExecClient> {
  const access = { url: `https://127.0.0.1:${h.port}`, caPem: h.hostCa.certPem, client: credentials };
  const { head, body, socket } = await postSpdyUpgrade(access, path, KUBECTL_SPDY_OFFERS);
  if (!head.startsWith('HTTP/1.1 101')) throw new Error(`no upgrade: ${head.split('\r\n')[0]} ${body}`);
  const query = new URLSearchParams(path.slice(path.indexOf('?')));
  const tty = query.get('tty') === 'true';
  const client = new SpdyTestClient(socket);
  const error = client.openStream({ streamtype: 'error' }, true);
  const stdin: ClientStream | undefined = query.get('stdin') === 'true' ? client.openStream({ streamtype: 'stdin' }) : undefined;
  const stdoutStream = client.openStream({ streamtype: 'stdout' });
  const other = client.openStream({ streamtype: tty ? 'resize' : 'stderr' });
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  const status = Promise.race([error.ended, closed]).then(() => {
    const text = error.received().toString();
    return text ? (JSON.parse(text) as Record<string, unknown>) : {};
  });
  const stdout = () => (tty ? stdoutStream.received() : Buffer.concat([stdoutStream.received(), other.received()]));
  return {
    stdout,
    type: (text) => stdin!.write(text),
    resize: (width, height) => other.write(`${JSON.stringify({ Width: width, Height: height })}\n`),
    until: (text, timeoutMs = 5_000) => waitFor(stdout, text, timeoutMs),
    status,
    close: () => client.close(),
  };
}
