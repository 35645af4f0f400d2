// Plays a recording's output on a terminal as it happened: each event after the gap before it,
// divided by the speed. Long pauses are cut to IDLE_LIMIT_MS first (asciinema's idle time limit
// does the same), so a session left idle for an hour replays in seconds. Only output is written:
// keystrokes (already echoed by the remote terminal) and resizes would garble the screen.
import type { CastEvent } from '../core/asciicast.js';
import type { Writer } from './commands/deps.js';

export const IDLE_LIMIT_MS = 2000;

export interface PlayerOptions {
  speed: number;
  /** Resolves after `ms`, or at once when `signal` aborts. */
  sleep(ms: number, signal: AbortSignal): Promise<void>;
  signal: AbortSignal;
}

/** The pause before each event, in ms, after the idle limit and the speed. */
export function playbackDelays(events: readonly CastEvent[], speed: number): number[] {
  let previous = 0;
  return events.map(([seconds]) => {
    const gap = Math.max(0, seconds - previous) * 1000;
    previous = Math.max(previous, seconds);
    return Math.min(gap, IDLE_LIMIT_MS) / speed;
  });
}

/** Writes output events in real time; returns false when `signal` stopped it early. */
export async function playOutput(events: readonly CastEvent[], out: Writer, options: PlayerOptions): Promise<boolean> {
  const delays = playbackDelays(events, options.speed);
  let pending = 0;
  for (const [index, [, type, data]] of events.entries()) {
    pending += delays[index]!;
    if (type !== 'o') continue;
    // Gaps before skipped events add up, so the output keeps its place in time.
    if (pending > 0) await options.sleep(pending, options.signal);
    pending = 0;
    if (options.signal.aborted) return false;
    out.write(data);
  }
  return !options.signal.aborted;
}
