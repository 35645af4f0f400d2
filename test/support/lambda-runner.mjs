// Runs one built Lambda bundle the way the Lambda runtime does, in this process of its own: the
// bundle is imported once (the cold start, with the environment the parent gave this process), then
// its handler is invoked once per IPC message {id, event, timeoutMs}; each answer goes back as
// {id, result} or {id, error}. An import that fails is not printed here (the runtime's own report
// is not the function's log): every invocation answers with it instead.
import { pathToFileURL } from 'node:url';

const bundle = process.argv[2];
let handler;
let initError;
try {
  ({ handler } = await import(pathToFileURL(bundle).href));
} catch (error) {
  initError = error;
}

let invocations = 0;
process.on('message', async ({ id, event, timeoutMs }) => {
  if (initError !== undefined) {
    process.send({ id, error: { init: true, message: String(initError?.message ?? initError) } });
    return;
  }
  const deadline = Date.now() + timeoutMs;
  invocations += 1;
  const context = {
    awsRequestId: `invocation-${invocations}`,
    functionName: 'bundled-function',
    logStreamName: 'bundled-function/stream',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
  };
  try {
    const result = await handler(event, context);
    process.send({ id, result: result ?? null });
  } catch (error) {
    process.send({ id, error: { init: false, message: String(error?.message ?? error) } });
  }
});
process.send({ ready: true });
