// The embedded stores listen on Unix sockets in a directory only this OS account can enter, not on
// TCP: dynalite and s3rver accept any signature, so a loopback port would let every local account
// (and, with a forged Host, a web page) write users, roles and invites. The kernel's permission
// check on the directory is the access control; there is no secret to generate, keep or verify.
import { mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface PrivateSocket {
  /** Where the server listens; its directory has mode 0700. */
  path: string;
  /** Removes the socket and its directory. */
  remove(): void;
}

/**
 * A fresh socket path for `name`. The directory is a new one under the system's temporary
 * directory (mkdtemp creates it with mode 0700 and a random name), not the data directory: socket
 * paths are limited to ~100 bytes, and a fresh directory never holds a stale socket of a crashed run.
 */
export function privateSocket(name: string): PrivateSocket {
  const dir = mkdtempSync(join(tmpdir(), 'kubeport-'));
  return { path: join(dir, `${name}.sock`), remove: () => rmSync(dir, { recursive: true, force: true }) };
}

function listenOnSocket(server: Server, path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve, reject) => {
    server.close((error) => (error ? reject(error) : resolve()));
    server.closeAllConnections();
  });
}

/**
 * Serves `server` on a fresh private socket named `name`; `release` frees what the server holds
 * besides (it also runs when listening fails).
 */
export async function servePrivately(server: Server, name: string, release: () => void = () => undefined) {
  const socket = privateSocket(name);
  try {
    await listenOnSocket(server, socket.path);
  } catch (error) {
    socket.remove();
    release();
    throw error;
  }
  return {
    socketPath: socket.path,
    close: async () => {
      await closeServer(server);
      socket.remove();
      release();
    },
  };
}
