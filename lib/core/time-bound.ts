// A point in time as people write it for a search: a duration back from now (30m, 1h, 7d, 1h30m)
// or an RFC 3339 time (2026-12-02T10:00:00Z, with an optional fraction and offset).
import { parseDuration } from './duration.js';

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/i;
const DAYS = /^(\d+)d(.*)$/;

/** The time `text` names, or undefined when it is neither form. */
export function parseTimeBound(text: string, now: Date): Date | undefined {
  const trimmed = text.trim();
  if (RFC3339.test(trimmed)) {
    const at = Date.parse(trimmed);
    // Date.parse rolls 2026-02-30 over to March; a date that does not exist is a typo.
    if (Number.isNaN(at) || trimmed.slice(0, 10) !== new Date(at + offsetMs(trimmed)).toISOString().slice(0, 10)) return undefined;
    return new Date(at);
  }
  const days = DAYS.exec(trimmed);
  let ms = days ? Number(days[1]) * 86_400_000 : 0;
  const rest = days ? days[2]! : trimmed;
  if (rest !== '' || !days) {
    try {
      ms += parseDuration(rest);
    } catch {
      return undefined;
    }
  }
  return Number.isFinite(ms) ? new Date(now.getTime() - ms) : undefined;
}

/** The offset an RFC 3339 time gives, in ms east of UTC. */
function offsetMs(text: string): number {
  const match = /([+-])(\d{2}):(\d{2})$/.exec(text);
  if (!match) return 0;
  return (match[1] === '-' ? -1 : 1) * (Number(match[2]) * 60 + Number(match[3])) * 60_000;
}
