// What a function builds once per cold start (clients, stores) and reuses for every invocation.
// A bad environment fails the cold start: the message (which names each bad variable) is logged
// once, as one line, and the failure carries the same message and no minified stack.

export const functionLog = (message: string): void => console.error(message);

export function atColdStart<T>(build: () => T, log: (message: string) => void = functionLog): T {
  try {
    return build();
  } catch (error) {
    const message = (error instanceof Error ? error.message : String(error)).replace(/\s*[\r\n]+\s*/g, ' ');
    log(message);
    const failure = new Error(message);
    failure.stack = `Error: ${message}`;
    throw failure;
  }
}
