// Go-style durations as Teleport users write them: "30h", "1h30m", "90s".
import { badRequest } from './errors.js';

const unitMs: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

export function parseDuration(text: string): number {
  const trimmed = text.trim();
  const pattern = /(\d+(?:\.\d+)?)(ms|s|m|h)/gy;
  let total = 0;
  let consumed = 0;
  for (const match of trimmed.matchAll(pattern)) {
    total += Number(match[1]) * unitMs[match[2]!]!;
    consumed += match[0].length;
  }
  if (trimmed.length === 0 || consumed !== trimmed.length) {
    throw badRequest(`"${text}" is not a duration (write it like 12h, 30m or 1h30m)`);
  }
  return total;
}
