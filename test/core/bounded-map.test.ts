import { describe, expect, it } from 'vitest';
import { mapBounded } from '../../lib/core/bounded-map.js';

describe('mapBounded', () => {
  it('never has more than the bound in flight, and answers in the order of the items', async () => {
    let inFlight = 0;
    let peak = 0;
    const releases: (() => void)[] = [];
    const items = Array.from({ length: 50 }, (_, i) => i);
    const done = mapBounded(items, 4, async (item) => {
      peak = Math.max(peak, ++inFlight);
      await new Promise<void>((resolve) => releases.push(resolve));
      inFlight--;
      return item * 2;
    });
    // Released newest first, so results finish out of order.
    while (releases.length > 0 || inFlight > 0) {
      await new Promise((resolve) => setImmediate(resolve));
      releases.pop()?.();
    }
    expect(await done).toEqual(items.map((i) => i * 2));
    expect(peak).toBe(4);
  });

  it('passes a failure on', async () => {
    await expect(mapBounded([1, 2, 3], 2, async (n) => (n === 2 ? Promise.reject(new Error('no 2')) : n))).rejects.toThrow('no 2');
  });
});
