// tsh play: replays a recorded session. pty writes its output to this terminal as it happened
// (--speed, long pauses cut to 2 s); cast prints the asciicast v2 file as stored (asciinema plays
// it); json prints its events; text prints what the session printed, with no timing.
import { type CastEvent, castOutputText, parseCast } from '../../core/asciicast.js';
import { IDLE_LIMIT_MS, playOutput } from '../cast-player.js';
import { InterruptedError } from '../login-wait.js';
import { fetchRecording } from '../recordings.js';
import { currentProfile, requireValid } from '../session.js';
import { Problems } from '../tsh-config.js';
import type { TshDeps } from './deps.js';

export const PLAY_FORMATS = ['pty', 'cast', 'json', 'text'] as const;
export type PlayFormat = (typeof PLAY_FORMATS)[number];
export { IDLE_LIMIT_MS };

export interface PlayOptions {
  sessionId: string;
  proxy?: string;
  format?: string;
  speed?: string;
}

function checked(options: PlayOptions): { format: PlayFormat; speed: number } {
  const problems = new Problems();
  const format = (options.format ?? 'pty') as PlayFormat;
  if (!PLAY_FORMATS.includes(format)) problems.add(`--format ${options.format} is not one of ${PLAY_FORMATS.join(', ')}`);
  const speed = Number(options.speed ?? 1);
  if (!Number.isFinite(speed) || speed <= 0 || speed > 1000)
    problems.add(`--speed ${options.speed} is not a number above 0 (e.g. 2 or 0.5)`);
  problems.throwIfAny();
  return { format, speed };
}

const jsonEvents = (events: readonly CastEvent[]) => events.map(([time, type, data]) => ({ time, type, data }));

export async function run(options: PlayOptions, deps: TshDeps): Promise<void> {
  const { format, speed } = checked(options);
  const { profile, keys } = currentProfile(deps.store, options.proxy);
  requireValid(profile, keys, deps.clock.now());
  const cast = await fetchRecording(deps, profile, keys, options.sessionId);
  if (format === 'cast') {
    deps.out.stdout.write(cast);
    return;
  }
  const { events } = parseCast(cast);
  if (format === 'json') deps.out.stdout.write(`${JSON.stringify(jsonEvents(events), null, 2)}\n`);
  else if (format === 'text') deps.out.stdout.write(castOutputText(events));
  else await playOnTerminal(events, speed, deps);
}

async function playOnTerminal(events: readonly CastEvent[], speed: number, deps: TshDeps): Promise<void> {
  const controller = new AbortController();
  const stopListening = deps.waits.onInterrupt(() => controller.abort());
  try {
    const finished = await playOutput(events, deps.out.stdout, { speed, sleep: deps.waits.sleep, signal: controller.signal });
    // The recorded terminal may have left colours or a hidden cursor behind: reset them, on a new line.
    if (deps.out.stdout.isTTY) deps.out.stdout.write('\x1b[0m\x1b[?25h');
    if (!finished) throw new InterruptedError('playback stopped');
  } finally {
    stopListening();
  }
}
