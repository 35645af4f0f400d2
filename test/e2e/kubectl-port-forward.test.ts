// kubectl port-forward, the real kubectl through the real agent to the stand-in's pods, over both
// transports kubectl speaks: its default (the WebSocket tunnel, a SPDY session inside WebSocket
// messages) and KUBECTL_PORT_FORWARD_WEBSOCKETS=false (SPDY/3.1 itself). Each mode forwards two
// ports at once with several connections carrying megabytes both ways, resolves a named port,
// reports a port nothing listens on, and is refused for a user whose roles lack portforward.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AgentHarness, startAgentHarness } from '../support/agent-harness.js';
import { type KubectlUser, kubectlUser } from '../support/agent-kubectl.js';
import { headerValues } from '../../lib/demo/kube-apiserver.js';
import { echoThrough, exchange, whenForwarding } from '../support/port-forward.js';
import { roleFromYaml } from '../support/roles.js';

const MB = 1024 * 1024;
const PF_PATH = '/api/v1/namespaces/default/pods/web-0/portforward';

const role = (name: string, verbs: string) =>
  roleFromYaml(`
kind: role
version: v8
metadata: {name: ${name}}
spec:
  allow: {kubernetes_labels: {env: dev}, kubernetes_groups: [devs], kubernetes_resources: [{kind: pods, api_group: '', namespace: default, name: '*', verbs: [${verbs}]}]}
  deny: {}
`);

const modes = [
  { mode: 'the WebSocket tunnel (kubectl default)', env: {}, method: 'GET', upgrade: 'websocket' },
  {
    mode: 'SPDY/3.1 (KUBECTL_PORT_FORWARD_WEBSOCKETS=false)',
    env: { KUBECTL_PORT_FORWARD_WEBSOCKETS: 'false' },
    method: 'POST',
    upgrade: 'SPDY/3.1',
  },
] as const;

describe('kubectl port-forward through the agent', () => {
  let h: AgentHarness;
  let forwarder: KubectlUser;
  let reader: KubectlUser;

  beforeAll(async () => {
    h = await startAgentHarness({
      kube: {
        rbac: { devs: ['default'] },
        pods: {
          default: [
            {
              name: 'web-0',
              containers: ['web'],
              ports: [
                { name: 'http', containerPort: 8080 },
                { name: 'echo', containerPort: 9000 },
                { name: 'echo-b', containerPort: 9001 },
              ],
            },
          ],
        },
      },
    });
    h.roles.set('forwarder', role('forwarder', 'get, list, portforward'));
    h.roles.set('pod-reader', role('pod-reader', 'get, list'));
    const dir = mkdtempSync(join(tmpdir(), 'kubeport-port-forward-'));
    forwarder = await kubectlUser(h, dir, 'fran', ['forwarder']);
    reader = await kubectlUser(h, dir, 'rita', ['pod-reader']);
  });
  afterAll(() => h?.close());

  describe.each(modes)('over $mode', ({ env, method, upgrade }) => {
    it('forwards two ports at once, several connections each, megabytes both ways intact', async () => {
      const before = h.kube.requests.length;
      const pf = await whenForwarding(forwarder.spawn(['port-forward', 'pod/web-0', ':9000', ':9001'], env), [9000, 9001]);
      try {
        const sizes = [5 * MB, 1 * MB, 2 * MB];
        const results = await Promise.all(
          [9000, 9001].flatMap((remote) => sizes.map((size) => echoThrough(pf.local.get(remote)!, size).then((r) => ({ size, ...r })))),
        );
        for (const r of results) {
          expect(r.receivedBytes).toBe(r.size);
          expect(r.receivedSha256).toBe(r.sentSha256);
        }
        expect(pf.stdout()).toMatch(/Handling connection for \d+/);
      } finally {
        await pf.stop();
      }
      // One upgrade reached the cluster, over the transport this mode names, as fran.
      const upgrades = h.kube.requests.slice(before).filter((r) => r.path === PF_PATH);
      expect(upgrades.map((r) => [r.method, headerValues(r, 'upgrade')[0], r.status, r.effective?.username])).toEqual([
        [method, upgrade, 101, 'fran'],
      ]);
      if (method === 'POST') expect(headerValues(upgrades[0]!, 'x-stream-protocol-version')).toEqual(['portforward.k8s.io']);
      else expect(headerValues(upgrades[0]!, 'sec-websocket-protocol')).toEqual(['SPDY/3.1+portforward.k8s.io']);
    });

    it('resolves a named port: curl-like GET through :http gets the pod web server', async () => {
      const pf = await whenForwarding(forwarder.spawn(['port-forward', 'pod/web-0', ':http'], env), [8080]);
      try {
        const answer = await exchange(pf.local.get(8080)!, 'GET /hello HTTP/1.1\r\nHost: localhost\r\n\r\n');
        expect(answer).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
        expect(answer).toContain('Hello from pod default/web-0 (Kubeport demo cluster), port 8080 (http).\nYou sent: GET /hello\n');
      } finally {
        await pf.stop();
      }
    });

    it('a port nothing listens on: kubectl prints the kubelet error naming the ports that answer, then ends', async () => {
      const pf = await whenForwarding(forwarder.spawn(['port-forward', 'pod/web-0', ':9000', ':7777'], env), [9000, 7777]);
      try {
        // Before the refused one, the good port carries data.
        const good = await echoThrough(pf.local.get(9000)!, 64 * 1024);
        expect(good.receivedSha256).toBe(good.sentSha256);
        await exchange(pf.local.get(7777)!, 'hello?');
        // kubectl 1.32 (client-go handleConnection) closes the whole session when a connection's
        // error stream carries a message, so the forward ends with "lost connection to pod".
        expect(await pf.exited).toBe(1);
        expect(pf.stderr()).toContain(
          `an error occurred forwarding ${pf.local.get(7777)} -> 7777: error forwarding port 7777 to pod default/web-0, uid `,
        );
        expect(pf.stderr()).toContain(
          ': failed to connect to localhost:7777 inside namespace default/web-0: connection refused; the pod listens on 8080 (http), 9000 (echo), 9001 (echo-b)',
        );
        expect(pf.stderr()).toMatch(/error: lost connection to pod\n$/);
      } finally {
        await pf.stop();
      }
    });

    it('a user whose roles lack the portforward verb is refused with a message naming it', async () => {
      const before = h.kube.requests.length;
      const refused = await reader.kubectlWith(env, 'port-forward', 'pod/web-0', ':9000');
      expect(refused.code).toBe(1);
      // With the WebSocket default, kubectl falls back to SPDY on the 403 and prints that answer.
      expect(refused.stderr).toBe(
        'error: error upgrading connection: pods "web-0" is forbidden: User "rita" cannot create resource "pods/portforward" in API group "" in the namespace "default": ' +
          'no allow.kubernetes_resources entry of your roles (pod-reader) on cluster "dev" covers it; ' +
          'ask an admin for a role entry such as {kind: pods, api_group: "", namespace: default, name: web-0, verbs: [portforward]} (role v8)\n',
      );
      // The agent refused it: the cluster saw the pod read, never the upgrade.
      expect(h.kube.requests.slice(before).filter((r) => r.path === PF_PATH)).toEqual([]);
    });
  });
});
