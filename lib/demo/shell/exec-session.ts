// One exec's standard streams over the v5 channel protocol, for the demo shell. With a terminal
// (tty=true) kubectl sends raw keys on stdin and the size on the resize channel, and opens no
// stderr channel: keys go through the line discipline, stderr is merged into stdout, and every
// "\n" written goes out as "\r\n", as a pseudo-terminal does. Without one, stdin arrives as
// bytes and stderr has its own channel (when kubectl asked for it).
import { StringDecoder } from 'node:string_decoder';
import { LineDiscipline } from './line-discipline.js';
import type { Input, Session } from './shell.js';

export const STDOUT = 1;
export const STDERR = 2;

export interface ExecSession {
  session: Session;
  /** A stdin frame's payload. */
  stdin(data: Buffer): void;
  /** The client closed stdin. */
  stdinClosed(): void;
  /** A resize frame's payload: {"Width":W,"Height":H}. */
  resize(data: Buffer): void;
  /** The connection is gone: whatever runs stops. */
  hangUp(): void;
}

const toTerminal = (data: string | Buffer) => data.toString().replace(/\r?\n/g, '\r\n');

export function createExecSession(options: {
  tty: boolean;
  stderr: boolean;
  send: (channel: number, data: string | Buffer) => void;
  /** Resolves when the transport can take more output; default: at once. */
  writable?: () => Promise<void>;
}): ExecSession {
  const { tty, send } = options;
  const queue: Input[] = [];
  const waiting: Array<(input: Input) => void> = [];
  const closed = new AbortController();
  let stdinEnded = false;
  let foreground: AbortController | undefined;
  const size = { columns: 80, rows: 24 };
  const deliver = (input: Input) => {
    const reader = waiting.shift();
    if (reader) reader(input);
    else queue.push(input);
  };
  const interrupt = () => {
    queue.length = 0; // Ctrl-C also discards what was typed ahead
    foreground?.abort();
    for (const reader of waiting.splice(0)) reader({ kind: 'interrupt' });
  };
  const discipline = tty ? new LineDiscipline((echo) => send(STDOUT, echo)) : undefined;
  const decoder = new StringDecoder('utf8');
  const out = (data: string | Buffer) => send(STDOUT, tty ? toTerminal(data) : data);

  const session: Session = {
    read: () => {
      const next = queue.shift();
      if (next) return Promise.resolve(next);
      if (stdinEnded || closed.signal.aborted) return Promise.resolve({ kind: 'eof' });
      return new Promise((resolve) => waiting.push(resolve));
    },
    out,
    drain: options.writable ?? (() => Promise.resolve()),
    err: (text) => (tty ? out(text) : options.stderr ? send(STDERR, text) : undefined),
    terminal: tty ? size : undefined,
    setForeground: (controller) => (foreground = controller),
    setPrompt: (prompt) => {
      if (discipline) discipline.prompt = prompt;
    },
    closed: closed.signal,
  };

  return {
    session,
    stdin(data) {
      if (!discipline) return deliver({ kind: 'data', data });
      for (const event of discipline.feed(decoder.write(data))) {
        if (event.kind === 'line') deliver({ kind: 'data', data: event.text });
        else if (event.kind === 'eof') deliver({ kind: 'eof' });
        else interrupt();
      }
    },
    stdinClosed() {
      stdinEnded = true;
      for (const reader of waiting.splice(0)) reader({ kind: 'eof' });
    },
    resize(data) {
      try {
        const { Width, Height } = JSON.parse(data.toString()) as { Width?: unknown; Height?: unknown };
        if (Number.isInteger(Width) && Number.isInteger(Height) && (Width as number) > 0 && (Height as number) > 0) {
          size.columns = Width as number;
          size.rows = Height as number;
        }
      } catch {
        // A malformed resize changes nothing, as the kubelet ignores it.
      }
    },
    hangUp() {
      closed.abort();
      foreground?.abort();
      for (const reader of waiting.splice(0)) reader({ kind: 'eof' });
    },
  };
}
