// The one short-lived cache: roles, users and clusters as they are now, read again after a while.
import { describe, expect, it } from 'vitest';
import { cachedLoader, cachedRoles } from '../../lib/core/fresh-cache.js';

function counting() {
  let now = 0;
  const loads: string[] = [];
  const clock = { now: () => new Date(now), advance: (ms: number) => (now += ms) };
  return { clock, loads };
}

describe('cachedLoader', () => {
  it('loads a key once while fresh, shares a load under way, and loads again once stale', async () => {
    const { clock, loads } = counting();
    const get = cachedLoader(async (key) => (loads.push(key), `${key}@${loads.length}`), clock, 2_000);
    const [a, b] = await Promise.all([get('alice'), get('alice')]);
    expect([a, b]).toEqual(['alice@1', 'alice@1']);
    clock.advance(1_999);
    expect(await get('alice')).toBe('alice@1');
    clock.advance(1);
    expect(await get('alice')).toBe('alice@2');
    expect(loads).toEqual(['alice', 'alice']);
  });

  it('forgets a failed load at once, so the next caller tries again', async () => {
    const { clock } = counting();
    let fail = true;
    const get = cachedLoader(async () => {
      if (fail) throw new Error('store unreachable');
      return 'ok';
    }, clock);
    await expect(get('k')).rejects.toThrow('store unreachable');
    fail = false;
    expect(await get('k')).toBe('ok');
  });

  it('holds at most maxEntries keys, dropping the oldest', async () => {
    const { clock, loads } = counting();
    const get = cachedLoader(async (key) => (loads.push(key), key), clock, 2_000, 2);
    for (const key of ['a', 'b', 'c', 'a']) await get(key);
    expect(loads).toEqual(['a', 'b', 'c', 'a']);
  });
});

describe('cachedRoles', () => {
  it('treats the same names in any order as one key', async () => {
    const { clock, loads } = counting();
    const get = cachedRoles(async (names) => (loads.push(names.join(',')), names), clock);
    expect(await get(['editor', 'access'])).toEqual(['access', 'editor']);
    await get(['access', 'editor']);
    expect(loads).toEqual(['access,editor']);
  });
});
