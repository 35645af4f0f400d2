// What a user is told when the agent ends their stream (certificate expired, access removed, a
// lock, the agent shutting down), and how it is said in each protocol: a Status on the exec
// error channel, an ERROR event in a watch, a Close reason elsewhere.
import { type KubeStatus, kubeStatus } from './kube-status.js';
import type { EndReason } from './request-scope.js';
import { channelFrame, closeFrame } from './websocket-frames.js';

export const DRAIN_MESSAGE = 'the Kubeport agent is shutting down; run the command again to reach the cluster through a running agent';

const defaults: Partial<Record<EndReason, { code: number; message: string }>> = {
  'certificate expired': {
    code: 401,
    message: 'your Kubeport certificate expired, which ended this session; run tsh login, then run the command again',
  },
  'no longer authorized': {
    code: 403,
    message: 'Kubeport no longer allows this session (your user was removed, locked out, or its roles changed); ask an administrator',
  },
  locked: { code: 403, message: 'your Kubeport access is locked; ask an administrator' },
  'agent draining': { code: 503, message: DRAIN_MESSAGE },
  'agent closed': { code: 503, message: 'the Kubeport agent stopped; run the command again once it is back' },
};

/** The Status a stream ended for `reason` carries; `message` (a lock's, a refusal's) over the default. */
export function endingStatus(reason: EndReason, message?: string): KubeStatus {
  const known = defaults[reason] ?? { code: 500, message: 'the Kubeport agent ended this stream' };
  return kubeStatus(known.code, message ?? known.message);
}

/** One watch event line with the Status, as the API server sends a watch's error. */
export function watchErrorEvent(status: KubeStatus): Buffer {
  return Buffer.from(`{"type":"ERROR","object":${status.body}}\n`);
}

/** The Kubernetes remote-command channel protocols whose error channel (3) carries a Status in JSON. */
const STATUS_CHANNEL_PROTOCOLS = new Set(['v4.channel.k8s.io', 'v5.channel.k8s.io']);
/** Older binary channel protocols: the error channel carries the message as text. */
const TEXT_CHANNEL_PROTOCOLS = new Set(['channel.k8s.io', 'v2.channel.k8s.io', 'v3.channel.k8s.io']);
const STATUS_CHANNEL = 3;
const CLOSE_NORMAL = 1000;

/**
 * The last frames of a WebSocket connection the agent ends: for exec and attach (channel
 * protocols) the Status on the error channel, then Close 1000, so kubectl prints the message;
 * for anything else (the port-forward tunnel, a proxied WebSocket) a Close 1000 with the message as its reason.
 */
export function webSocketEnding(protocol: string, status: KubeStatus): Buffer {
  if (STATUS_CHANNEL_PROTOCOLS.has(protocol))
    return Buffer.concat([channelFrame(STATUS_CHANNEL, Buffer.from(status.body)), closeFrame(CLOSE_NORMAL)]);
  if (TEXT_CHANNEL_PROTOCOLS.has(protocol))
    return Buffer.concat([channelFrame(STATUS_CHANNEL, Buffer.from(status.message)), closeFrame(CLOSE_NORMAL)]);
  return closeFrame(CLOSE_NORMAL, status.message);
}
