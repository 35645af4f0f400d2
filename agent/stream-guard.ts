// Open streams (watches, followed logs, exec, attach, port-forward) are checked again every few
// seconds: a removed or revoked user, or roles that no longer allow the cluster, end them.
/** Calls `end` once `recheck` fails; returns what stops the checking. */
export function guardStream(recheck: () => Promise<unknown>, end: () => void, everyMs: number): () => void {
  let stopped = false;
  const timer = setInterval(() => {
    recheck().catch(() => {
      if (stopped) return;
      stop();
      end();
    });
  }, everyMs);
  timer.unref();
  const stop = () => {
    stopped = true;
    clearInterval(timer);
  };
  return stop;
}
