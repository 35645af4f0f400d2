// The rel="next" target of an RFC 8288 Link header, as GitHub sends it for paged lists.

export function nextLink(header: string | null): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(',')) {
    const match = /^\s*<([^>]*)>\s*;(.*)$/.exec(part);
    if (!match) continue;
    const rels = /(?:^|;)\s*rel\s*=\s*"?([^";]*)"?/i.exec(match[2]!)?.[1]?.split(/\s+/) ?? [];
    if (rels.includes('next')) return match[1];
  }
  return undefined;
}
