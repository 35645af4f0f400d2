// SPDY/3.1 as kubectl speaks it (exec, attach, port-forward): frames, header compression, an
// incremental parser (also for observers), a writer, and a server session over a Duplex.
export * from './frames.js';
export { SPDY3_DICTIONARY } from './dictionary.js';
export {
  HeaderCompressor,
  HeaderDecompressor,
  MAX_HEADER_BLOCK_BYTES,
  decodeNameValueBlock,
  encodeNameValueBlock,
} from './header-block.js';
export { SpdyParser, type SpdyParserOptions } from './parser.js';
export { SpdyWriter } from './writer.js';
export { SpdySession, type SpdySessionEvents, type SpdySessionOptions } from './session.js';
export { SpdyStream } from './stream.js';
