// Times for people: table-driven, on fixed instants and explicit time-zone offsets.
import { describe, expect, it } from 'vitest';
import { humanDuration, localDateTime, validity } from '../../lib/core/human-duration.js';

const s = 1000;
const m = 60 * s;
const h = 60 * m;

describe('humanDuration', () => {
  it.each([
    [0, '0s'],
    [400, '<1s'],
    [45 * s, '45s'],
    [59 * s + 999, '59s'],
    [60 * s, '1m'],
    [3 * m, '3m'],
    [59 * m + 30 * s, '59m30s'],
    [h, '1h'],
    [h + 30 * s, '1h'],
    [11 * h + 59 * m + 59 * s, '11h59m'],
    [26 * h + 5 * m, '1d2h'],
    [-3 * m - 10 * s, '3m10s'],
  ])('%i ms reads %s', (ms, text) => {
    expect(humanDuration(ms)).toBe(text);
  });
});

describe('localDateTime and validity', () => {
  const notAfter = new Date('2026-12-02T16:45:30Z');
  it.each([
    [0, '2026-12-02 16:45 local'],
    [60, '2026-12-02 17:45 local'],
    [-5 * 60, '2026-12-02 11:45 local'],
    [9 * 60 + 30, '2026-12-03 02:15 local'],
  ])('offset %i min reads %s', (offset, text) => {
    expect(localDateTime(notAfter, offset)).toBe(text);
  });

  it.each([
    [new Date('2026-12-02T04:45:30Z'), '2026-12-02 17:45 local [valid for 12h]'],
    [new Date('2026-12-02T04:46:00Z'), '2026-12-02 17:45 local [valid for 11h59m]'],
    [new Date('2026-12-02T15:46:00Z'), '2026-12-02 17:45 local [valid for 59m30s]'],
    [new Date('2026-12-02T16:44:45Z'), '2026-12-02 17:45 local [valid for 45s]'],
    [new Date('2026-12-02T16:45:30Z'), '2026-12-02 17:45 local [EXPIRED 0s ago]'],
    [new Date('2026-12-02T16:48:30Z'), '2026-12-02 17:45 local [EXPIRED 3m ago]'],
  ])('at %s reads %s', (now, text) => {
    expect(validity(notAfter, now, 60)).toBe(text);
  });
});
