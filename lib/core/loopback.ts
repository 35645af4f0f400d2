// The one answer to "does this name this machine?", for every place that treats loopback
// differently: plain HTTP to a local proxy, the local proxy's default port, local mode's listen
// addresses, and the Host check that keeps web pages (DNS rebinding) away from local servers.

const IPV4_LOOPBACK = /^127\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

/** Whether `host` (a name or address, IPv6 with or without brackets, no port) is this machine's loopback. */
export function isLoopbackHost(host: string): boolean {
  const name = host.toLowerCase();
  if (name === 'localhost' || name === '::1' || name === '[::1]') return true;
  const octets = IPV4_LOOPBACK.exec(name);
  return octets !== null && octets.slice(1).every((octet) => Number(octet) <= 255);
}

/** Splits HOST:PORT or [IPV6]:PORT (port optional); undefined when it is neither. */
export function splitHostPort(authority: string): { host: string; port?: number } | undefined {
  const match = /^(\[[0-9a-fA-F:.]+\]|[^:[\]]+)(?::(\d{1,5}))?$/.exec(authority);
  if (!match) return undefined;
  const port = match[2] === undefined ? undefined : Number(match[2]);
  if (port !== undefined && port > 65535) return undefined;
  return port === undefined ? { host: match[1]! } : { host: match[1]!, port };
}

/** Whether a Host header (HOST[:PORT]) names this machine's loopback. */
export function isLoopbackAuthority(authority: string): boolean {
  const parts = splitHostPort(authority);
  return parts !== undefined && isLoopbackHost(parts.host);
}
