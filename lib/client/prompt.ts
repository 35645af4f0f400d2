// Asks the user for input. At a terminal, secrets are not echoed. Without one (scripts, tests),
// each prompt still goes to standard error and each answer is one line of standard input.
//
// Standard input holds the process only while a question waits for its answer: a pipe left
// referenced (or a reader left on it) keeps the process alive after its last answer whenever the
// other end keeps the pipe open (scripts, expect, CI runners). Pausing alone is not enough: the
// stream reads ahead again right after a pause, so the pipe is also unreferenced.
import { createInterface } from 'node:readline';
import type { Writer } from './commands/deps.js';
import { UsageError } from './usage-error.js';

export interface Prompt {
  /** True at a terminal: tsh then asks for a password twice and draws the QR code. */
  readonly interactive: boolean;
  ask(question: string, options?: { secret?: boolean }): Promise<string>;
}

interface PromptStreams {
  input: NodeJS.ReadableStream & { isTTY?: boolean };
  /** Where questions go: standard error, so standard output stays the command's result. */
  output: Writer;
}

/** Over standard input and error unless told otherwise; they are opened on the first question. */
export function createPrompt(given?: PromptStreams): Prompt {
  let streams: PromptStreams | undefined = given;
  let lines: LineReader | undefined;
  const open = () => (streams ??= { input: process.stdin, output: process.stderr });
  return {
    get interactive() {
      return Boolean(open().input.isTTY);
    },
    ask: async (question, options = {}) => {
      const { input, output } = open();
      if (input.isTTY) return askAtTerminal(open(), question, options.secret === true);
      output.write(question);
      const line = await (lines ??= new LineReader(input)).next();
      if (line === undefined) throw new UsageError(`standard input ended before an answer to "${question.trim()}"`);
      return line;
    },
  };
}

/** Lines of a pipe or file, one per call; what arrived beyond the line waits for the next call. */
class LineReader {
  private buffered = '';
  private ended = false;

  constructor(private readonly input: NodeJS.ReadableStream) {
    input.on('end', () => (this.ended = true));
  }

  next(): Promise<string | undefined> {
    return new Promise((resolve, reject) => {
      const input = this.input;
      const settle = (finish: () => void) => {
        input.off('data', onData);
        input.off('end', onEnd);
        input.off('error', onError);
        input.pause();
        holdProcess(input, false);
        finish();
      };
      const tryLine = (): boolean => {
        const newline = this.buffered.indexOf('\n');
        if (newline === -1 && !this.ended) return false;
        const end = newline === -1 ? this.buffered.length : newline;
        const line = this.buffered.slice(0, end).replace(/\r$/, '');
        const empty = newline === -1 && this.buffered === '';
        this.buffered = newline === -1 ? '' : this.buffered.slice(newline + 1);
        settle(() => resolve(empty ? undefined : line));
        return true;
      };
      const onData = (chunk: Buffer | string) => {
        this.buffered += chunk.toString();
        tryLine();
      };
      const onEnd = () => {
        this.ended = true;
        tryLine();
      };
      const onError = (error: Error) => settle(() => reject(error));
      if (tryLine()) return;
      input.on('data', onData);
      input.on('end', onEnd);
      input.on('error', onError);
      holdProcess(input, true);
      input.resume();
    });
  }
}

/** A pipe or socket keeps the process alive only while referenced; files end by themselves. */
function holdProcess(input: NodeJS.ReadableStream, hold: boolean): void {
  const handle = input as { ref?: () => void; unref?: () => void };
  if (hold) handle.ref?.();
  else handle.unref?.();
}

function askAtTerminal(streams: PromptStreams, question: string, secret: boolean): Promise<string> {
  return new Promise((resolve, reject) => {
    holdProcess(streams.input, true);
    const rl = createInterface({ input: streams.input, output: streams.output as NodeJS.WritableStream, terminal: true });
    if (secret) {
      // Echo nothing of what is typed after the question.
      const internal = rl as unknown as { _writeToOutput: (text: string) => void };
      internal._writeToOutput = (text: string) => {
        if (text.includes(question)) streams.output.write(text);
      };
    }
    // Closing the interface pauses the input, so nothing holds the process after the last answer.
    rl.question(question, (answer) => {
      rl.close();
      holdProcess(streams.input, false);
      if (secret) streams.output.write('\n');
      resolve(answer);
    });
    rl.on('SIGINT', () => {
      rl.close();
      reject(new UsageError('interrupted'));
    });
  });
}
