// Many store reads for one answer (a listing's per-session queries) go a few at a time: all at
// once, one caller could hold hundreds of store requests open and starve everyone else's.

/** `work` over `items`, at most `concurrency` at a time; results in the order of `items`. */
export async function mapBounded<T, R>(items: readonly T[], concurrency: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const at = next++;
      results[at] = await work(items[at]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  return results;
}
