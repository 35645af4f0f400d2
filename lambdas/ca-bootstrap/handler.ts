// The CA bootstrap custom resource: a CloudFormation event in, the bootstrap (CAs, the first GitHub
// connector) called, and the answer PUT to the presigned ResponseURL. CloudFormation waits up to an
// hour for an answer that never comes, so every path answers: FAILED with the cause on any error,
// and FAILED before the function would time out.
import type { CloudFormationCustomResourceEvent, Context } from 'aws-lambda';
import { errorDetail } from '../../lib/core/public-error.js';

/** What the event says; a trigger only: what the bootstrap does comes from the function's own configuration. */
export interface BootstrapRequest {
  requestType: 'Create' | 'Update';
}

/** What was done, as the custom resource's Data (strings, a few attributes). */
export type Bootstrap = (request: BootstrapRequest) => Promise<Record<string, string>>;

export interface CaBootstrapOptions {
  log: (message: string) => void;
  /**
   * The stack this function belongs to (set by the stack in its environment): an event naming any
   * other stack is answered FAILED and changes nothing. Anyone allowed to invoke the function can
   * send an event; only CloudFormation sends this stack's.
   */
  stackId: string;
  /** Time kept back from the function's remaining time to send FAILED before it times out. */
  answerMarginMs?: number;
}

export type CaBootstrapHandler = (
  event: CloudFormationCustomResourceEvent,
  context: Pick<Context, 'getRemainingTimeInMillis' | 'logStreamName'>,
) => Promise<void>;

/** Same for the resource's whole life: a changed id would make CloudFormation delete the "old" one. */
export const BOOTSTRAP_PHYSICAL_ID = 'kubeport-certificate-authorities';
const DEFAULT_MARGIN_MS = 5_000;
// CloudFormation refuses answers over 4 KiB; the reason is the only part that grows.
const MAX_REASON_CHARS = 1_500;
const SEND_ATTEMPTS = 3;

/** `bootstrap` is a function, or the error that kept it from being built (a bad environment): then every event answers FAILED with it. */
export function createCaBootstrapHandler(bootstrap: Bootstrap | Error, options: CaBootstrapOptions): CaBootstrapHandler {
  const margin = options.answerMarginMs ?? DEFAULT_MARGIN_MS;
  return async (event, context) => {
    const physicalId = event.RequestType === 'Create' ? BOOTSTRAP_PHYSICAL_ID : event.PhysicalResourceId;
    const answer = (status: 'SUCCESS' | 'FAILED', reason: string, data?: Record<string, string>) =>
      send(event.ResponseURL, {
        Status: status,
        Reason: reason.slice(0, MAX_REASON_CHARS),
        PhysicalResourceId: physicalId,
        StackId: event.StackId,
        RequestId: event.RequestId,
        LogicalResourceId: event.LogicalResourceId,
        ...(data ? { Data: data } : {}),
      }).catch((error: unknown) => options.log(`could not answer CloudFormation (${event.RequestType}): ${errorDetail(error)}`));

    // The tables are retained and certificates issued by the CAs outlive the stack: nothing to undo.
    if (event.RequestType === 'Delete')
      return answer('SUCCESS', 'certificate authorities and connectors are kept (the tables are retained)');
    if (bootstrap instanceof Error) return answer('FAILED', `${bootstrap.message} (log stream ${context.logStreamName})`);
    if (event.StackId !== options.stackId) {
      options.log(`refused a ${event.RequestType} event from stack ${JSON.stringify(event.StackId)}: not this function's stack`);
      return answer('FAILED', "the event does not come from this function's stack; nothing was changed");
    }

    const request: BootstrapRequest = { requestType: event.RequestType };
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      const left = context.getRemainingTimeInMillis();
      timer = setTimeout(
        () =>
          reject(
            new Error(`the bootstrap did not finish within ${Math.round(left / 1000)} s (the function's time, less a margin to answer)`),
          ),
        Math.max(left - margin, left / 2),
      );
    });
    try {
      const data = await Promise.race([bootstrap(request), timeout]);
      options.log(`${event.RequestType}: ${JSON.stringify(data)}`);
      await answer('SUCCESS', 'certificate authorities in place', data);
    } catch (error) {
      options.log(`${event.RequestType} failed: ${errorDetail(error)}`);
      const cause = error instanceof Error ? error.message : String(error);
      await answer('FAILED', `${oneLine(cause)} (log stream ${context.logStreamName})`);
    } finally {
      clearTimeout(timer);
    }
  };
}

/** The presigned URL signs no content type: an empty one is sent, as CloudFormation's own helpers do. */
async function send(url: string, body: Record<string, unknown>): Promise<void> {
  const text = JSON.stringify(body);
  let lastError: unknown;
  for (let attempt = 0; attempt < SEND_ATTEMPTS; attempt++) {
    try {
      const response = await fetch(url, {
        method: 'PUT',
        body: text,
        headers: { 'content-type': '' },
        signal: AbortSignal.timeout(10_000),
      });
      await response.body?.cancel();
      if (response.ok) return;
      lastError = new Error(`the response URL answered ${response.status}`);
    } catch (error) {
      lastError = error;
    }
  }
  throw lastError;
}

function oneLine(text: string): string {
  return text.replace(/\s*[\r\n]+\s*/g, ' ');
}
