// kubectl exec spoken by hand over TLS, to send the stand-in what no well-behaved client would.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import https from 'node:https';
import tls from 'node:tls';
import { parse } from 'yaml';
import type { PemPair } from '../../lib/demo/kube-apiserver.js';

export interface StandInAccess {
  url: string;
  caPem: string;
  client: PemPair;
}

/** URL, CA and client certificate of the first cluster and user of a kubeconfig the stand-in wrote. */
export function accessFromKubeconfig(path: string): StandInAccess {
  const config = parse(readFileSync(path, 'utf8'));
  const cluster = config.clusters[0].cluster;
  const user = config.users[0].user;
  const pem = (b64: string) => Buffer.from(b64, 'base64').toString();
  return {
    url: cluster.server,
    caPem: pem(cluster['certificate-authority-data']),
    client: { certPem: pem(user['client-certificate-data']), keyPem: pem(user['client-key-data']) },
  };
}

/**
 * Opens `cat` on pod default/web-0 over WebSocket, then sends one binary frame without the mask
 * RFC 6455 requires of every client frame. Resolves with the handshake's status line once the
 * server has closed the connection. `headers`: extra request header lines (impersonation).
 */
export function sendUnmaskedExecFrame(access: StandInAccess, headers: string[] = []): Promise<string> {
  const { hostname, port } = new URL(access.url);
  return new Promise((resolve, reject) => {
    const socket = tls.connect(
      {
        host: hostname,
        port: Number(port),
        ca: access.caPem,
        cert: access.client.certPem,
        key: access.client.keyPem,
        servername: 'localhost',
      },
      () => {
        socket.write(
          [
            'GET /api/v1/namespaces/default/pods/web-0/exec?command=cat&stdin=true&stdout=true HTTP/1.1',
            `Host: ${hostname}:${port}`,
            'Upgrade: websocket',
            'Connection: Upgrade',
            `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}`,
            'Sec-WebSocket-Version: 13',
            'Sec-WebSocket-Protocol: v5.channel.k8s.io',
            ...headers,
            '',
            '',
          ].join('\r\n'),
        );
      },
    );
    let received = Buffer.alloc(0);
    let sent = false;
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      if (sent || !received.includes('\r\n\r\n')) return;
      sent = true;
      // FIN + binary opcode; MASK bit clear, length 2; payload: channel 0 (stdin), 'A'.
      socket.write(Buffer.from([0x82, 0x02, 0x00, 0x41]));
    });
    socket.on('error', (error) => (sent ? undefined : reject(error)));
    socket.on('close', () => resolve(received.subarray(0, received.indexOf('\r\n')).toString('latin1')));
    socket.setTimeout(10_000, () => socket.destroy(new Error('the stand-in kept the connection open after an unmasked frame')));
  });
}

/** GET /version with the given access: the status code, or the error's message when it fails. */
export function getVersion(access: StandInAccess): Promise<number | string> {
  return new Promise((resolve) => {
    const req = https.get(
      `${access.url}/version`,
      { ca: access.caPem, cert: access.client.certPem, key: access.client.keyPem, agent: false },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', (error) => resolve(error.message));
  });
}

/**
 * POSTs a SPDY/3.1 upgrade to `path` offering `protocols` in X-Stream-Protocol-Version (none:
 * no header). Resolves with the reply's head and, after a 101, the socket carrying the session.
 */
export function postSpdyUpgrade(
  access: StandInAccess,
  path: string,
  protocols: string[],
): Promise<{ head: string; body: string; socket: tls.TLSSocket }> {
  const { hostname, port } = new URL(access.url);
  return new Promise((resolve, reject) => {
    const socket = tls.connect(
      {
        host: hostname,
        port: Number(port),
        ca: access.caPem,
        cert: access.client.certPem,
        key: access.client.keyPem,
        servername: 'localhost',
      },
      () =>
        socket.write(
          [
            `POST ${path} HTTP/1.1`,
            `Host: ${hostname}:${port}`,
            'Connection: Upgrade',
            'Upgrade: SPDY/3.1',
            ...protocols.map((p) => `X-Stream-Protocol-Version: ${p}`),
            'Content-Length: 0',
            '',
            '',
          ].join('\r\n'),
        ),
    );
    let received = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      const end = received.indexOf('\r\n\r\n');
      if (end < 0) return;
      const head = received.subarray(0, end).toString('latin1');
      if (!head.startsWith('HTTP/1.1 101')) return; // a refusal: read it to the close
      socket.off('data', onData);
      const rest = received.subarray(end + 4);
      if (rest.length > 0) socket.unshift(rest);
      resolve({ head, body: '', socket });
    };
    socket.on('data', onData);
    socket.on('error', reject);
    socket.on('end', () => {
      const text = received.toString('latin1');
      const end = text.indexOf('\r\n\r\n');
      resolve({ head: text.slice(0, end), body: text.slice(end + 4), socket });
    });
  });
}
