// A recording store for tests. Until the S3 adapter lands, parts live in memory.
import type { RecordingStore } from '../../lib/core/ports.js';

export async function startRecordingStore(): Promise<{ store: RecordingStore; close(): Promise<void> }> {
  const parts = new Map<string, Buffer[]>();
  const store: RecordingStore = {
    putPart: async (sid, index, body) => {
      const list = parts.get(sid) ?? [];
      list[index] = body;
      parts.set(sid, list);
    },
    read: async (sid) => (parts.has(sid) ? Buffer.concat(parts.get(sid)!.filter(Boolean)) : undefined),
    url: (sid) => `memory://${sid}`,
  };
  return { store, close: async () => undefined };
}
