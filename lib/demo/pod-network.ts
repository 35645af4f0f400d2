// What listens inside the stand-in's pods, for kubectl port-forward: every TCP port a pod's
// containers declare (spec.containers[].ports) answers. A port whose name starts with "http"
// answers like a tiny web server, so `curl` through a forward shows something; every other
// declared port echoes whatever arrives, byte for byte, with backpressure (the bench pushes
// hundreds of MB through it). A port no container declares has nothing listening, as on a
// real pod, and the kubelet's error names the ports that do answer.
import type { Duplex } from 'node:stream';
import type { KubeObject } from './fixtures.js';

export interface PodPort {
  name?: string;
  containerPort: number;
}

/** Declared on every pod's first container unless its fixture says otherwise. */
export const defaultPodPorts: PodPort[] = [
  { name: 'http', containerPort: 8080 },
  { name: 'echo', containerPort: 9000 },
];

/** The container port as the pod spec carries it. */
export const containerPortSpec = ({ name, containerPort }: PodPort) => ({ ...(name ? { name } : {}), containerPort, protocol: 'TCP' });

/** Something listening on a pod's port: it takes over one forwarded connection. */
export type PortListener = (connection: Duplex) => void;

export type Dial = { listener: PortListener } | { refused: string };

/** The TCP ports the pod's containers declare, in spec order. */
export function declaredPorts(pod: KubeObject): PodPort[] {
  const containers = (pod.spec.containers ?? []) as Array<{ ports?: Array<{ name?: string; containerPort?: number; protocol?: string }> }>;
  return containers.flatMap((c) =>
    (c.ports ?? [])
      .filter((p) => typeof p.containerPort === 'number' && (p.protocol ?? 'TCP') === 'TCP')
      .map((p) => ({ ...(p.name ? { name: p.name } : {}), containerPort: p.containerPort! })),
  );
}

/** Connects to `port` inside the pod, or says why nothing answers there (the kubelet's words). */
export function dialPod(pod: KubeObject, port: number): Dial {
  const ports = declaredPorts(pod);
  const found = ports.find((p) => p.containerPort === port);
  if (found) return { listener: found.name?.startsWith('http') ? httpListener(pod, found) : echoListener };
  const { namespace = '', name } = pod.metadata;
  const listening = ports.map((p) => (p.name ? `${p.containerPort} (${p.name})` : String(p.containerPort))).join(', ');
  return {
    refused:
      `error forwarding port ${port} to pod ${namespace}/${name}, uid ${pod.metadata.uid}: ` +
      `failed to connect to localhost:${port} inside namespace ${namespace}/${name}: connection refused; ` +
      (listening ? `the pod listens on ${listening}` : 'the pod listens on no port'),
  };
}

/** Everything back as it came; the pod ends its side when the client ends theirs. */
const echoListener: PortListener = (connection) => {
  connection.on('error', () => connection.destroy());
  connection.pipe(connection);
};

const MAX_REQUEST_HEAD = 16 * 1024;

/** One HTTP/1.x request per connection, answered with a short text naming the pod, then closed. */
function httpListener(pod: KubeObject, port: PodPort): PortListener {
  return (connection) => {
    connection.on('error', () => connection.destroy());
    let head = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0 && head.length < MAX_REQUEST_HEAD) return;
      connection.off('data', onData);
      // Whatever else the client sends is read and dropped, so it never fills the stream's window.
      connection.resume();
      const [method = '', target = ''] = head.subarray(0, Math.max(end, 0)).toString('latin1').split('\r\n')[0]!.split(' ');
      if (end < 0 || !/^[A-Z]+$/.test(method) || !target) return respond(connection, 400, 'Bad Request', 'not an HTTP request\n');
      const { namespace, name } = pod.metadata;
      const text =
        `Hello from pod ${namespace}/${name} (Kubeport demo cluster), port ${port.containerPort} (${port.name}).\n` +
        `You sent: ${method} ${target}\n`;
      respond(connection, 200, 'OK', method === 'HEAD' ? '' : text, Buffer.byteLength(text));
    };
    connection.on('data', onData);
  };
}

function respond(connection: Duplex, status: number, reason: string, body: string, length = Buffer.byteLength(body)): void {
  connection.end(
    `HTTP/1.1 ${status} ${reason}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${length}\r\nConnection: close\r\n\r\n${body}`,
  );
}
