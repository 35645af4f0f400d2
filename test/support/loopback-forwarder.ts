// A loopback TCP port that forwards each connection to a Unix socket: the embedded stores listen
// only on private sockets, and a Lambda bundle reaches its stores through the SDK's
// AWS_ENDPOINT_URL_* variables, which take URLs.
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';

export interface LoopbackForwarder {
  /** http://127.0.0.1:PORT */
  url: string;
  close(): Promise<void>;
}

export async function forwardLoopbackTo(socketPath: string): Promise<LoopbackForwarder> {
  const open = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = connect(socketPath);
    for (const socket of [client, upstream]) {
      open.add(socket);
      socket.on('close', () => open.delete(socket));
      socket.on('error', () => undefined);
    }
    client.pipe(upstream).pipe(client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of open) socket.destroy();
      }),
  };
}
