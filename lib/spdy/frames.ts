// SPDY/3.1 frames in memory and on the wire, without the header compression (header-block.ts)
// and without any I/O: the parser and the writer put the two together.
//
// Every frame has an 8-byte header. A control frame: 1 bit set, 15-bit version (3), 16-bit
// type, 8-bit flags, 24-bit length. A data frame: 1 bit clear, 31-bit stream id, 8-bit flags,
// 24-bit length.

export const SPDY_VERSION = 3;
export const FRAME_HEADER_BYTES = 8;
/** The largest payload a frame's 24-bit length can announce. */
export const MAX_FRAME_PAYLOAD = 0xffffff;
/** The window every stream (and the session, in 3.1) starts with. */
export const DEFAULT_WINDOW_SIZE = 64 * 1024;

export const FrameType = {
  SYN_STREAM: 1,
  SYN_REPLY: 2,
  RST_STREAM: 3,
  SETTINGS: 4,
  PING: 6,
  GOAWAY: 7,
  HEADERS: 8,
  WINDOW_UPDATE: 9,
} as const;

export const FLAG_FIN = 0x01;
export const FLAG_UNIDIRECTIONAL = 0x02;

/** RST_STREAM status codes. */
export const RstStatus = {
  PROTOCOL_ERROR: 1,
  INVALID_STREAM: 2,
  REFUSED_STREAM: 3,
  UNSUPPORTED_VERSION: 4,
  CANCEL: 5,
  INTERNAL_ERROR: 6,
  FLOW_CONTROL_ERROR: 7,
  STREAM_IN_USE: 8,
  STREAM_ALREADY_CLOSED: 9,
  FRAME_TOO_LARGE: 11,
} as const;

/** GOAWAY status codes. */
export const GoAwayStatus = { OK: 0, PROTOCOL_ERROR: 1, INTERNAL_ERROR: 2 } as const;

/** SETTINGS ids this code reads. */
export const SettingsId = { MAX_CONCURRENT_STREAMS: 4, INITIAL_WINDOW_SIZE: 7 } as const;

/**
 * Header names are lowercase in SPDY/3; a value holding several values separates them with NUL
 * (as spdystream does for repeated HTTP headers).
 */
export type SpdyHeaders = Record<string, string>;

export interface Setting {
  id: number;
  value: number;
  flags: number;
}

export type SpdyFrame =
  | { type: 'DATA'; streamId: number; fin: boolean; data: Buffer }
  | {
      type: 'SYN_STREAM';
      streamId: number;
      associatedStreamId: number;
      priority: number;
      fin: boolean;
      unidirectional: boolean;
      headers: SpdyHeaders;
    }
  | { type: 'SYN_REPLY'; streamId: number; fin: boolean; headers: SpdyHeaders }
  | { type: 'RST_STREAM'; streamId: number; status: number }
  | { type: 'SETTINGS'; clearPersisted: boolean; settings: Setting[] }
  | { type: 'PING'; id: number }
  | { type: 'GOAWAY'; lastGoodStreamId: number; status: number }
  | { type: 'HEADERS'; streamId: number; fin: boolean; headers: SpdyHeaders }
  | { type: 'WINDOW_UPDATE'; streamId: number; delta: number };

/** The frames whose payload ends with a compressed header block. */
export type HeaderFrame = Extract<SpdyFrame, { headers: SpdyHeaders }>;

export function hasHeaderBlock(frame: SpdyFrame): frame is HeaderFrame {
  return frame.type === 'SYN_STREAM' || frame.type === 'SYN_REPLY' || frame.type === 'HEADERS';
}

/** A frame's 8-byte header, read without its payload. */
export interface FrameHeader {
  control: boolean;
  /** Control frames: the version; data frames: 0. */
  version: number;
  /** Control frames: the type number; data frames: 0. */
  type: number;
  /** Data frames: the stream id; control frames: 0. */
  streamId: number;
  flags: number;
  length: number;
}

export function readFrameHeader(bytes: Buffer, offset = 0): FrameHeader {
  const first = bytes.readUInt32BE(offset);
  const flagsAndLength = bytes.readUInt32BE(offset + 4);
  const control = (first & 0x80000000) !== 0;
  return {
    control,
    version: control ? (first >>> 16) & 0x7fff : 0,
    type: control ? first & 0xffff : 0,
    streamId: control ? 0 : first & 0x7fffffff,
    flags: flagsAndLength >>> 24,
    length: flagsAndLength & 0xffffff,
  };
}

/** The 8-byte header of a DATA frame; the payload is sent after it as is, without a copy. */
export function dataFrameHeader(streamId: number, length: number, fin: boolean): Buffer {
  if (length > MAX_FRAME_PAYLOAD) throw new RangeError(`a SPDY DATA frame carries at most ${MAX_FRAME_PAYLOAD} bytes, got ${length}`);
  const header = Buffer.allocUnsafe(FRAME_HEADER_BYTES);
  header.writeUInt32BE(streamId & 0x7fffffff, 0);
  header.writeUInt32BE((((fin ? FLAG_FIN : 0) << 24) | length) >>> 0, 4);
  return header;
}

function controlFrame(type: number, flags: number, payload: Buffer): Buffer {
  const frame = Buffer.allocUnsafe(FRAME_HEADER_BYTES + payload.length);
  frame.writeUInt32BE((0x80000000 | (SPDY_VERSION << 16) | type) >>> 0, 0);
  frame.writeUInt32BE(((flags << 24) | payload.length) >>> 0, 4);
  payload.copy(frame, FRAME_HEADER_BYTES);
  return frame;
}

function words(...values: number[]): Buffer {
  const bytes = Buffer.allocUnsafe(values.length * 4);
  values.forEach((value, index) => bytes.writeUInt32BE(value >>> 0, index * 4));
  return bytes;
}

/**
 * Encodes a frame. Frames with headers need their header block already compressed (by the
 * session's one HeaderCompressor, in order), passed as `headerBlock`.
 */
export function encodeFrame(frame: SpdyFrame, headerBlock?: Buffer): Buffer {
  const block = () => {
    if (!headerBlock) throw new TypeError(`a ${frame.type} frame needs its compressed header block`);
    return headerBlock;
  };
  switch (frame.type) {
    case 'DATA':
      return Buffer.concat([dataFrameHeader(frame.streamId, frame.data.length, frame.fin), frame.data]);
    case 'SYN_STREAM': {
      const fixed = Buffer.alloc(10);
      fixed.writeUInt32BE(frame.streamId & 0x7fffffff, 0);
      fixed.writeUInt32BE(frame.associatedStreamId & 0x7fffffff, 4);
      fixed[8] = (frame.priority & 0x7) << 5;
      const flags = (frame.fin ? FLAG_FIN : 0) | (frame.unidirectional ? FLAG_UNIDIRECTIONAL : 0);
      return controlFrame(FrameType.SYN_STREAM, flags, Buffer.concat([fixed, block()]));
    }
    case 'SYN_REPLY':
      return controlFrame(FrameType.SYN_REPLY, frame.fin ? FLAG_FIN : 0, Buffer.concat([words(frame.streamId & 0x7fffffff), block()]));
    case 'HEADERS':
      return controlFrame(FrameType.HEADERS, frame.fin ? FLAG_FIN : 0, Buffer.concat([words(frame.streamId & 0x7fffffff), block()]));
    case 'RST_STREAM':
      return controlFrame(FrameType.RST_STREAM, 0, words(frame.streamId & 0x7fffffff, frame.status));
    case 'SETTINGS': {
      const entries = frame.settings.flatMap((s) => [((s.flags & 0xff) << 24) | (s.id & 0xffffff), s.value]);
      return controlFrame(FrameType.SETTINGS, frame.clearPersisted ? 1 : 0, words(frame.settings.length, ...entries));
    }
    case 'PING':
      return controlFrame(FrameType.PING, 0, words(frame.id));
    case 'GOAWAY':
      return controlFrame(FrameType.GOAWAY, 0, words(frame.lastGoodStreamId & 0x7fffffff, frame.status));
    case 'WINDOW_UPDATE':
      return controlFrame(FrameType.WINDOW_UPDATE, 0, words(frame.streamId & 0x7fffffff, frame.delta & 0x7fffffff));
  }
}

/** Thrown for bytes that are not SPDY/3 framing; the session answers it with GOAWAY. */
export class SpdyProtocolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SpdyProtocolError';
  }
}

/** Where a control frame's compressed header block starts in its payload, or -1 if it has none. */
export function headerBlockOffset(type: number): number {
  if (type === FrameType.SYN_STREAM) return 10;
  if (type === FrameType.SYN_REPLY || type === FrameType.HEADERS) return 4;
  return -1;
}

/**
 * Decodes a control frame's payload. For frames with headers, `headers` is the block already
 * decompressed by the caller (the payload after headerBlockOffset).
 */
export function decodeControlFrame(header: FrameHeader, payload: Buffer, headers: SpdyHeaders = {}): SpdyFrame | undefined {
  const need = (bytes: number) => {
    if (payload.length < bytes) throw new SpdyProtocolError(`SPDY control frame type ${header.type} is too short: ${payload.length} bytes`);
  };
  const fin = (header.flags & FLAG_FIN) !== 0;
  const word = (offset: number) => payload.readUInt32BE(offset);
  const id = (offset: number) => word(offset) & 0x7fffffff;
  switch (header.type) {
    case FrameType.SYN_STREAM:
      need(10);
      return {
        type: 'SYN_STREAM',
        streamId: id(0),
        associatedStreamId: id(4),
        priority: payload[8]! >> 5,
        fin,
        unidirectional: (header.flags & FLAG_UNIDIRECTIONAL) !== 0,
        headers,
      };
    case FrameType.SYN_REPLY:
      need(4);
      return { type: 'SYN_REPLY', streamId: id(0), fin, headers };
    case FrameType.HEADERS:
      need(4);
      return { type: 'HEADERS', streamId: id(0), fin, headers };
    case FrameType.RST_STREAM:
      need(8);
      return { type: 'RST_STREAM', streamId: id(0), status: word(4) };
    case FrameType.SETTINGS: {
      need(4);
      const count = word(0);
      need(4 + count * 8);
      const settings: Setting[] = [];
      for (let i = 0; i < count; i++) {
        const idAndFlags = word(4 + i * 8);
        settings.push({ flags: idAndFlags >>> 24, id: idAndFlags & 0xffffff, value: word(8 + i * 8) });
      }
      return { type: 'SETTINGS', clearPersisted: (header.flags & 1) !== 0, settings };
    }
    case FrameType.PING:
      need(4);
      return { type: 'PING', id: word(0) };
    case FrameType.GOAWAY:
      need(4);
      // SPDY/3 added a status; SPDY/2 peers sent only the stream id.
      return { type: 'GOAWAY', lastGoodStreamId: id(0), status: payload.length >= 8 ? word(4) : 0 };
    case FrameType.WINDOW_UPDATE:
      need(8);
      return { type: 'WINDOW_UPDATE', streamId: id(0), delta: id(4) };
    default:
      // Unknown control frames (NOOP, CREDENTIAL) are ignored, as the protocol asks.
      return undefined;
  }
}
