// A client's protocol error on an exec WebSocket ends that connection; the stand-in keeps serving.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type KubeApiServer, startKubeApiServer } from '../../lib/demo/kube-apiserver.js';
import { type StandInAccess, getVersion, sendUnmaskedExecFrame } from '../support/raw-exec.js';

describe('exec on the stand-in', () => {
  let server: KubeApiServer;
  let access: StandInAccess;

  beforeAll(async () => {
    server = await startKubeApiServer();
    access = { url: server.url, caPem: server.caPem, client: await server.issueClientCert('kubeport-agent') };
  });
  afterAll(() => server?.close());

  // Before, ws emitted the frame error on a WebSocket nobody listened to, which threw out of the
  // socket's data handler: an uncaught exception that ended the process serving the cluster.
  it('closes the connection of an unmasked client frame without throwing, and keeps answering', async () => {
    const uncaught: unknown[] = [];
    const collect = (error: unknown) => uncaught.push(error);
    process.on('uncaughtException', collect);
    try {
      const statusLine = await sendUnmaskedExecFrame(access);
      expect(statusLine).toBe('HTTP/1.1 101 Switching Protocols');
      expect(await getVersion(access)).toBe(200);
    } finally {
      process.off('uncaughtException', collect);
    }
    expect(uncaught).toEqual([]);
  });
});
