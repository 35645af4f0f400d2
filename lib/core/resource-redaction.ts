// What a resource looks like when it leaves the server (tctl get, the admin API's answers):
// secrets are never shown, sealed or not.

/** Fields of each kind's spec that are never returned. */
const SECRET_SPEC_FIELDS: Record<string, readonly string[]> = {
  github: ['client_secret', 'client_secret_sealed'],
};

/** The body without its secrets; a body of another kind, or not an object, is returned as it is. */
export function redactResource(kind: string, body: unknown): unknown {
  const fields = SECRET_SPEC_FIELDS[kind];
  if (!fields || typeof body !== 'object' || body === null) return body;
  const spec = (body as { spec?: unknown }).spec;
  if (typeof spec !== 'object' || spec === null) return body;
  const kept = Object.fromEntries(Object.entries(spec).filter(([field]) => !fields.includes(field)));
  return { ...body, spec: kept };
}
