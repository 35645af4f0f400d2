// A TCP proxy that drops a connection once no byte has crossed it, either way, for idleMs: a load
// balancer's idle timeout (350 s on AWS NLB), shortened so tests can cross it several times.
import net from 'node:net';

export interface IdleCuttingProxy {
  port: number;
  /** Connections dropped for being idle so far. */
  cuts(): number;
  close(): Promise<void>;
}

export async function startIdleCuttingProxy(target: { host: string; port: number }, idleMs: number): Promise<IdleCuttingProxy> {
  let cuts = 0;
  const open = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(target.port, target.host);
    for (const socket of [client, upstream]) {
      open.add(socket);
      socket.once('close', () => open.delete(socket));
      socket.on('error', () => undefined);
      socket.on('close', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    let timer = setTimeout(cut, idleMs);
    function cut() {
      cuts++;
      client.destroy();
      upstream.destroy();
    }
    const active = () => {
      clearTimeout(timer);
      timer = setTimeout(cut, idleMs);
    };
    client.on('data', active);
    upstream.on('data', active);
    client.once('close', () => clearTimeout(timer));
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    cuts: () => cuts,
    close: () =>
      new Promise((resolve) => {
        for (const socket of open) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
