// The real clock and randomness, for entry points; tests pass their own.
import { randomBytes } from 'node:crypto';
import type { Clock, Random } from '../core/ports.js';

export const systemClock: Clock = { now: () => new Date() };
export const systemRandom: Random = { bytes: (n) => new Uint8Array(randomBytes(n)) };
