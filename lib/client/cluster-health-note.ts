// What tsh and tctl print under a table (or at login) for a cluster the agent found unhealthy.
// The reason and the fix come from the agent, which quotes the cluster's API server: control
// characters in them could rewrite a user's terminal, so they go through terminalSafe.
import { terminalSafe } from './terminal-text.js';

const safeLine = (text: string) => terminalSafe(text).replace(/\n/g, ' ');

/** `\nNAME: reason` and, when there is one, `\n  fix: …` (as tsh kube ls and tctl get kube_clusters print them). */
export function unhealthyNote(name: string, reason: unknown, fix: unknown): string {
  const why = typeof reason === 'string' ? safeLine(reason) : 'unhealthy';
  return `\n${name}: ${why}${typeof fix === 'string' && fix !== '' ? `\n  fix: ${safeLine(fix)}` : ''}`;
}

/** The login warning's one line: reason and fix, terminal-safe. */
export function unhealthyWarning(name: string, reason: unknown, fix: unknown): string {
  const why = typeof reason === 'string' ? safeLine(reason) : 'its agent reported a problem';
  return `warning: kubernetes cluster ${name} is unhealthy: ${why}${typeof fix === 'string' && fix !== '' ? `; fix: ${safeLine(fix)}` : ''}\n`;
}
