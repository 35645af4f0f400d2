// asciicast v2 (https://docs.asciinema.org/manual/asciicast/v2/): the format Kubeport records
// interactive sessions in, so a downloaded recording plays in asciinema unchanged. A file is a
// JSON header line, then one JSON array per event: [seconds since start, type, data].
import { badRequest } from './errors.js';

/** What a session recording says about itself; asciinema ignores the kubeport block. */
export interface CastHeader {
  version: 2;
  width: number;
  height: number;
  /** Unix seconds at the start of the session. */
  timestamp: number;
  command?: string;
  title?: string;
  env?: Record<string, string>;
  kubeport?: {
    session_id: string;
    user: string;
    cluster: string;
    namespace: string;
    pod: string;
    container?: string;
    /** exec or attach */
    type: string;
  };
}

/** o: output, i: input (keystrokes), r: resize ("COLSxROWS"), m: marker. */
export type CastEventType = 'o' | 'i' | 'r' | 'm';
export type CastEvent = [seconds: number, type: CastEventType, data: string];

const EVENT_TYPES = new Set<string>(['o', 'i', 'r', 'm']);

export function castHeaderLine(header: CastHeader): string {
  return `${JSON.stringify(header)}\n`;
}

/** One event line; times keep microseconds, as asciinema writes them. */
export function castEventLine(seconds: number, type: CastEventType, data: string): string {
  return `${JSON.stringify([Math.round(seconds * 1e6) / 1e6, type, data])}\n`;
}

export function resizeData(width: number, height: number): string {
  return `${width}x${height}`;
}

export function parseResizeData(data: string): { width: number; height: number } | undefined {
  const match = /^(\d{1,5})x(\d{1,5})$/.exec(data);
  return match ? { width: Number(match[1]), height: Number(match[2]) } : undefined;
}

export interface ParsedCast {
  header: CastHeader;
  events: CastEvent[];
  /** The last line was cut short (a session that ended with the agent): it was left out. */
  torn: boolean;
}

/**
 * Reads a recording. A torn last line (the agent stopped mid-write) is left out rather than
 * refused, so a session killed mid-way still plays up to its last whole event.
 */
export function parseCast(text: string): ParsedCast {
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  const first = lines.shift();
  if (first === undefined) throw badRequest('the recording is empty');
  const header = parseJson(first) as CastHeader | undefined;
  if (!header || header.version !== 2 || !Number.isInteger(header.width) || !Number.isInteger(header.height)) {
    throw badRequest('the recording does not start with an asciicast v2 header');
  }
  const events: CastEvent[] = [];
  let torn = false;
  lines.forEach((line, index) => {
    const event = parseJson(line);
    const valid =
      Array.isArray(event) &&
      event.length === 3 &&
      typeof event[0] === 'number' &&
      EVENT_TYPES.has(event[1] as string) &&
      typeof event[2] === 'string';
    if (valid) events.push(event as CastEvent);
    else if (index === lines.length - 1) torn = true;
    else throw badRequest(`line ${index + 2} of the recording is not an asciicast v2 event`);
  });
  return { header, events, torn };
}

/** Everything the session printed, in order: what a terminal showed, escape sequences included. */
export function castOutputText(events: readonly CastEvent[]): string {
  let text = '';
  for (const [, type, data] of events) if (type === 'o') text += data;
  return text;
}

function parseJson(line: string): unknown {
  try {
    return JSON.parse(line) as unknown;
  } catch {
    return undefined;
  }
}
