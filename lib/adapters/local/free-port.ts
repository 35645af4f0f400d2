// A free loopback port for a server that must be given its address up front (npm start in the
// end-to-end tests, nginx in the bench). Servers that can listen on port 0 should do that instead.
import { createServer } from 'node:net';

/** A port that was free a moment ago on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => (port ? resolve(port) : reject(new Error('the loopback listener reported no port'))));
    });
  });
}
