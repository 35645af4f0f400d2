// Times for people: how long a certificate still holds (or since when it does not), in the
// largest two units that matter, and an instant in the reader's local time. Never rounds a live
// certificate to nothing: under a minute shows seconds, under a second shows "<1s".

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** 2d3h, 11h59m, 1h, 59m30s, 3m, 45s, <1s: the two largest units, a zero second unit left out. */
export function humanDuration(ms: number): string {
  const span = Math.abs(ms);
  if (span < SECOND) return span === 0 ? '0s' : '<1s';
  const units: [number, string][] = [
    [DAY, 'd'],
    [HOUR, 'h'],
    [MINUTE, 'm'],
    [SECOND, 's'],
  ];
  const first = units.findIndex(([size]) => span >= size);
  const [bigSize, bigName] = units[first]!;
  const big = Math.floor(span / bigSize);
  const next = units[first + 1];
  if (!next) return `${big}${bigName}`;
  const small = Math.floor((span - big * bigSize) / next[0]);
  return small === 0 ? `${big}${bigName}` : `${big}${bigName}${small}${next[1]}`;
}

const pad = (n: number) => String(n).padStart(2, '0');

/**
 * YYYY-MM-DD HH:MM in the reader's time zone. The offset (minutes east of UTC) defaults to the
 * one this process runs in for that instant; tests pass their own.
 */
export function localDateTime(at: Date, offsetMinutes: number = -at.getTimezoneOffset()): string {
  const shifted = new Date(at.getTime() + offsetMinutes * MINUTE);
  return (
    `${shifted.getUTCFullYear()}-${pad(shifted.getUTCMonth() + 1)}-${pad(shifted.getUTCDate())} ` +
    `${pad(shifted.getUTCHours())}:${pad(shifted.getUTCMinutes())} local`
  );
}

/** "2026-12-02 17:45 local [valid for 11h59m]" or "2026-12-02 17:45 local [EXPIRED 3m ago]". */
export function validity(notAfter: Date, now: Date, offsetMinutes?: number): string {
  const left = notAfter.getTime() - now.getTime();
  const when = localDateTime(notAfter, offsetMinutes);
  return left > 0 ? `${when} [valid for ${humanDuration(left)}]` : `${when} [EXPIRED ${humanDuration(left)} ago]`;
}

export function isExpired(notAfter: Date, now: Date): boolean {
  return now.getTime() >= notAfter.getTime();
}
