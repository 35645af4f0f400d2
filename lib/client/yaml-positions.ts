// Where a field of a parsed YAML document is in its file, so tctl names problems by line and
// column as an editor would.
import { type Document, type LineCounter, isMap, isScalar, isSeq } from 'yaml';

/** The 1-based line and column of the field at `path`, or of the nearest enclosing one that exists. */
export function fieldPosition(
  document: Document,
  lineCounter: LineCounter,
  path: readonly (string | number)[],
): { line: number; col: number } {
  let node: unknown = document.contents;
  let offset = document.range?.[0] ?? 0;
  if (isMap(node) || isSeq(node)) offset = node.range?.[0] ?? offset;
  for (const part of path) {
    if (isMap(node)) {
      const pair = node.items.find((item) => isScalar(item.key) && String(item.key.value) === String(part));
      if (!pair) break;
      offset = (isScalar(pair.key) ? pair.key.range?.[0] : undefined) ?? offset;
      node = pair.value;
    } else if (isSeq(node) && typeof part === 'number') {
      const item = node.items[part] as { range?: [number, number, number] } | undefined;
      if (!item) break;
      offset = item.range?.[0] ?? offset;
      node = item;
    } else {
      break;
    }
  }
  return lineCounter.linePos(offset);
}

/** True for a document with nothing in it (a stray `---`, only comments). */
export function isEmptyDocument(document: Document): boolean {
  const contents = document.contents;
  return contents === null || (isScalar(contents) && contents.value === null);
}
