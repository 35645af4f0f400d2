// Bounds on the event fields a client chooses (its User-Agent, the path and query it asks for), so
// that a refused request costs the audit path a bounded number of bytes however large its head.
export const MAX_USER_AGENT_BYTES = 512;
export const MAX_REQUEST_PATH_BYTES = 4 * 1024;

/** The longest prefix of `text` within `maxBytes` of UTF-8 (never half a character), and whether it was cut. */
export function capUtf8(text: string, maxBytes: number): { text: string; cut: boolean } {
  // Cheap for the usual short value: no UTF-16 unit takes more than 3 bytes of UTF-8.
  if (text.length * 3 <= maxBytes) return { text, cut: false };
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length <= maxBytes) return { text, cut: false };
  let end = maxBytes;
  // Back off continuation bytes (10xxxxxx) to the start of the character that does not fit.
  while (end > 0 && (bytes[end]! & 0xc0) === 0x80) end--;
  return { text: bytes.subarray(0, end).toString('utf8'), cut: true };
}
