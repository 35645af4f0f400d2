// The agent's finish hook is several (the audit event, the embedder's onFinish, …): each runs,
// whatever another one throws, so one failing consumer cannot cost another its record.
import type { RequestScope } from './request-scope.js';

export type FinishHook = (scope: RequestScope) => void;

/** One hook that runs every given one in order; undefined when none is given. */
export function finishHooks(hooks: readonly (FinishHook | undefined)[], log: (message: string) => void): FinishHook | undefined {
  const present = hooks.filter((hook): hook is FinishHook => hook !== undefined);
  if (present.length <= 1) return present[0];
  return (scope) => {
    for (const hook of present) {
      try {
        hook(scope);
      } catch (error) {
        log(`agent finish hook failed for request ${scope.id}: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
  };
}
