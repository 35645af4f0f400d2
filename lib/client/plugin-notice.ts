// kubectl runs its exec plugin again for each retry of one command (`kubectl get pods` runs it
// six times when it fails), and passes the plugin's standard error through each time. So that a
// person reads tsh's message once per kubectl command, the plugin notes which kubectl (its parent
// process) it last told, and stays silent for the same one. A recycled process id within the
// minute the note lasts would only cost one message, never hide a different one for long.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const NOTE = 'kubectl-notice';
const NOTE_LIFETIME_MS = 60_000;

/** True when this kubectl (`parentPid`) has not been told yet; notes it as told. */
export function firstNotice(home: string, parentPid: number, now: Date): boolean {
  const path = join(home, NOTE);
  try {
    const [when, pid] = readFileSync(path, 'utf8').split(' ');
    if (Number(pid) === parentPid && now.getTime() - Number(when) < NOTE_LIFETIME_MS) return false;
  } catch {
    // No note yet.
  }
  try {
    writeFileSync(path, `${now.getTime()} ${parentPid}`, { mode: 0o600 });
  } catch {
    // Without a profile folder there is nothing to note in; telling again is the safe side.
  }
  return true;
}
