// What tctl get and the admin API may show of a stored resource: never a connector's client
// secret (plain or sealed), so a read-only admin cannot take over the GitHub OAuth app.
export function redactResource(kind: string, body: unknown): unknown {
  if (kind !== 'github' || typeof body !== 'object' || body === null) return body;
  const spec = (body as { spec?: unknown }).spec;
  if (typeof spec !== 'object' || spec === null) return body;
  const kept = Object.fromEntries(Object.entries(spec).filter(([field]) => !field.startsWith('client_secret')));
  return { ...body, spec: kept };
}
