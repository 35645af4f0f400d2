// Where a browser login may send its result: the rules of Teleport's ValidateClientRedirect. The
// result is a certificate for the client's key, so a redirect elsewhere would hand a login to
// whoever listens there.

export interface ClientRedirectSettings {
  allowed_https_hostnames?: string[] | undefined;
  insecure_allowed_cidr_ranges?: string[] | undefined;
}

const LOOPBACK_NAMES = new Set(['localhost', '127.0.0.1', '[::1]']);
const SECRET_KEY = /^[0-9a-f]{64}$/;
const MAX_LENGTH = 2048;

/** The parsed URL and its secret key, or a message naming what is wrong and what tsh should send. */
export function checkClientRedirect(
  raw: string,
  settings: ClientRedirectSettings = {},
): { ok: true; url: URL; secretKey: string } | { ok: false; message: string } {
  const refuse = (why: string) => ({
    ok: false as const,
    message: `redirect_url ${why}; tsh sends http://127.0.0.1:PORT/callback?secret_key=<64 hex digits>`,
  });
  if (raw.length > MAX_LENGTH) return refuse(`is longer than ${MAX_LENGTH} characters`);
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return refuse('is not a URL');
  }
  if (url.username !== '' || url.password !== '' || /^[a-z]+:\/\/[^/]*@/i.test(raw))
    return refuse('must not carry a user name or password');
  if (url.hash !== '' || raw.includes('#')) return refuse('must not have a fragment');
  if (url.pathname !== '/callback') return refuse('must have the path /callback');
  const keys = [...url.searchParams.keys()];
  if (keys.length !== 1 || keys[0] !== 'secret_key') return refuse('must have exactly one query parameter, secret_key');
  const secretKey = url.searchParams.get('secret_key')!;
  if (!SECRET_KEY.test(secretKey)) return refuse('must have a secret_key of 64 lowercase hex digits (32 bytes)');
  if (url.protocol === 'http:') {
    if (LOOPBACK_NAMES.has(url.hostname) || inAllowedCidr(url.hostname, settings.insecure_allowed_cidr_ranges ?? [])) {
      return { ok: true, url, secretKey };
    }
    return refuse(`may use http only for localhost, 127.0.0.1 or ::1 (got ${url.hostname})`);
  }
  if (url.protocol === 'https:') {
    if (url.port !== '' && url.port !== '443') return refuse('over https must use port 443');
    if ((settings.allowed_https_hostnames ?? []).some((pattern) => hostnameMatches(pattern, url.hostname))) {
      return { ok: true, url, secretKey };
    }
    return refuse(`names host ${url.hostname}, which the connector's client_redirect_settings.allowed_https_hostnames does not list`);
  }
  return refuse(`must use http (loopback) or https, not ${url.protocol.replace(/:$/, '')}`);
}

/** Exact names, or a leading "*." for any subdomain (one or more labels). */
function hostnameMatches(pattern: string, hostname: string): boolean {
  const wanted = pattern.toLowerCase();
  if (wanted.startsWith('*.')) return hostname.endsWith(wanted.slice(1)) && hostname.length > wanted.length - 1;
  return hostname === wanted;
}

/** IPv4 CIDR ranges only; an IPv6 or malformed range never matches. */
function inAllowedCidr(hostname: string, ranges: string[]): boolean {
  const address = ipv4(hostname);
  if (address === undefined) return false;
  return ranges.some((range) => {
    const [base, bits] = range.split('/');
    const network = base === undefined ? undefined : ipv4(base);
    const prefix = bits === undefined ? 32 : Number(bits);
    if (network === undefined || !Number.isInteger(prefix) || prefix < 0 || prefix > 32) return false;
    const mask = prefix === 0 ? 0 : (~0 << (32 - prefix)) >>> 0;
    return (address & mask) >>> 0 === (network & mask) >>> 0;
  });
}

function ipv4(text: string): number | undefined {
  const parts = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (!parts) return undefined;
  const octets = parts.slice(1).map(Number);
  if (octets.some((octet) => octet > 255)) return undefined;
  return octets.reduce((sum, octet) => sum * 256 + octet, 0);
}
