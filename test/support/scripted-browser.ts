// A browser reduced to what a login needs: follows 3xx redirects and meta-refresh pages, one
// hop at a time (fetch with redirect: 'manual'), and says where it landed and how it got there.

export interface Landing {
  url: string;
  status: number;
  body: string;
  headers: Headers;
  /** Every URL visited, the first one included. */
  hops: string[];
}

const MAX_HOPS = 10;

export async function browse(start: string, options: { stopAt?: (url: URL) => boolean } = {}): Promise<Landing> {
  const hops: string[] = [];
  let url = start;
  for (;;) {
    hops.push(url);
    if (hops.length > MAX_HOPS) throw new Error(`more than ${MAX_HOPS} redirects: ${hops.join(' -> ')}`);
    const response = await fetch(url, { redirect: 'manual', headers: { accept: 'text/html' } });
    const body = await response.text();
    const next = nextUrl(response, body, url);
    if (next === undefined || options.stopAt?.(new URL(next))) {
      if (next !== undefined) hops.push(next);
      return { url: next ?? url, status: response.status, body, headers: response.headers, hops };
    }
    url = next;
  }
}

function nextUrl(response: Response, body: string, base: string): string | undefined {
  const location = response.headers.get('location');
  if (response.status >= 300 && response.status < 400 && location) return new URL(location, base).toString();
  if (!/^text\/html/i.test(response.headers.get('content-type') ?? '')) return undefined;
  const meta = /<meta\s+http-equiv=["']?refresh["']?\s+content=["']\s*\d+\s*;\s*url=(?:'([^']*)'|"([^"]*)"|([^"'>\s]*))/i.exec(body);
  const target = meta?.[1] ?? meta?.[2] ?? meta?.[3];
  return target === undefined ? undefined : new URL(decodeEntities(target), base).toString();
}

function decodeEntities(text: string): string {
  return text
    .replace(/&#(\d+);/g, (_, code: string) => String.fromCharCode(Number(code)))
    .replace(/&#x([0-9a-f]+);/gi, (_, code: string) => String.fromCharCode(parseInt(code, 16)))
    .replaceAll('&quot;', '"')
    .replaceAll('&lt;', '<')
    .replaceAll('&gt;', '>')
    .replaceAll('&amp;', '&');
}
