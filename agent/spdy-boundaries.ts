// The last frames of a SPDY connection the agent ends, placed at a frame boundary that
// lib/spdy's FrameBoundaries finds from frame headers alone (header blocks never inflated).
import { type FrameBoundaries, GoAwayStatus, dataFrameHeader, encodeFrame } from '../lib/spdy/index.js';

/** Protocols of kubectl's remote commands whose error stream carries a Status in JSON; older ones carry text. */
const STATUS_PROTOCOLS = new Set(['v4.channel.k8s.io', 'v5.channel.k8s.io']);

/**
 * The last frames of a SPDY connection the agent ends: for exec and attach, the Status (or, for
 * protocols before v4, the message) on the error stream with FIN, so kubectl prints it; then
 * GOAWAY, which tells the client no more streams will be served.
 */
export function spdyEnding(
  client: FrameBoundaries,
  remoteCommand: boolean,
  protocol: string,
  status: { body: string; message: string },
): Buffer {
  const goAway = encodeFrame({ type: 'GOAWAY', lastGoodStreamId: client.lastClientStream, status: GoAwayStatus.OK });
  if (!remoteCommand || client.firstClientStream === 0) return goAway;
  const payload = Buffer.from(STATUS_PROTOCOLS.has(protocol) ? status.body : status.message);
  return Buffer.concat([dataFrameHeader(client.firstClientStream, payload.length, true), payload, goAway]);
}
