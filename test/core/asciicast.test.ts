import { describe, expect, it } from 'vitest';
import { castEventLine, castHeaderLine, castOutputText, parseCast, parseResizeData, resizeData } from '../../lib/core/asciicast.js';

const header = { version: 2 as const, width: 80, height: 24, timestamp: 1_900_000_000, command: 'sh' };

describe('asciicast v2', () => {
  it('writes lines that read back as the same header and events', () => {
    const text =
      castHeaderLine(header) + castEventLine(0.1234567, 'o', 'héllo\r\n\u001b[1m') + castEventLine(1.5, 'r', resizeData(120, 40));
    const parsed = parseCast(text);
    expect(parsed.header).toEqual(header);
    expect(parsed.events).toEqual([
      [0.123457, 'o', 'héllo\r\n\u001b[1m'],
      [1.5, 'r', '120x40'],
    ]);
    expect(parsed.torn).toBe(false);
    expect(castOutputText(parsed.events)).toBe('héllo\r\n\u001b[1m');
  });

  it('leaves out a torn last line instead of refusing the recording', () => {
    const text = castHeaderLine(header) + castEventLine(0.5, 'o', 'a') + '[0.9, "o", "unfinish';
    const parsed = parseCast(text);
    expect(parsed.events).toEqual([[0.5, 'o', 'a']]);
    expect(parsed.torn).toBe(true);
  });

  it.each([
    ['an empty file', ''],
    ['a file without a v2 header', '{"version":1,"width":80,"height":24}\n'],
    ['a bad event before the last line', `${castHeaderLine(header)}[1,"x","a"]\n[2,"o","b"]\n`],
  ])('refuses %s', (_what, text) => {
    expect(() => parseCast(text)).toThrow(/recording/);
  });

  it('reads resize data and refuses anything else', () => {
    expect(parseResizeData('120x40')).toEqual({ width: 120, height: 40 });
    expect(parseResizeData('120x')).toBeUndefined();
    expect(parseResizeData('1e3x4')).toBeUndefined();
  });
});
