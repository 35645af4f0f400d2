// SelfSubjectAccessReview bodies: kubectl auth can-i sends protobuf, other clients JSON. Read by
// the agent (to answer for the roles) and by the demo cluster (to answer for its RBAC).

export interface AccessReviewSpec {
  resourceAttributes?: Record<string, string>;
  nonResourceAttributes?: Record<string, string>;
}

// Length-delimited fields of one protobuf message by field number; other wire types skipped.
function protoFields(buf: Buffer | undefined): Map<number, Buffer> | undefined {
  if (!buf) return undefined;
  const fields = new Map<number, Buffer>();
  let pos = 0;
  const varint = () => {
    let value = 0;
    for (let shift = 0; pos < buf.length && shift < 35; shift += 7) {
      const byte = buf[pos++] as number;
      value += (byte & 0x7f) * 2 ** shift;
      if (byte < 0x80) return value;
    }
    throw new Error('bad varint');
  };
  try {
    while (pos < buf.length) {
      const tag = varint();
      const wireType = tag & 7;
      if (wireType === 0) varint();
      else if (wireType === 1) pos += 8;
      else if (wireType === 5) pos += 4;
      else if (wireType === 2) {
        const length = varint();
        fields.set(Math.floor(tag / 8), buf.subarray(pos, pos + length));
        pos += length;
      } else return undefined;
    }
  } catch {
    return undefined;
  }
  return pos === buf.length ? fields : undefined;
}

function protoStrings(buf: Buffer | undefined, names: string[]): Record<string, string> | undefined {
  const fields = protoFields(buf);
  if (!fields) return undefined;
  const out: Record<string, string> = {};
  names.forEach((name, i) => {
    const value = fields.get(i + 1);
    if (value?.length) out[name] = value.toString('utf8');
  });
  return out;
}

export function parseAccessReviewSpec(body: Buffer, contentType: string | undefined): AccessReviewSpec | undefined {
  if (!contentType?.startsWith('application/vnd.kubernetes.protobuf')) {
    try {
      return (JSON.parse(body.toString('utf8')) as { spec?: AccessReviewSpec }).spec ?? {};
    } catch {
      return undefined;
    }
  }
  if (body.subarray(0, 4).toString('latin1') !== 'k8s\0') return undefined;
  // Envelope runtime.Unknown{raw=2} -> SelfSubjectAccessReview{spec=2} -> spec{resource=1, nonResource=2}.
  const spec = protoFields(protoFields(protoFields(body.subarray(4))?.get(2))?.get(2));
  if (!spec) return undefined;
  const resource = protoStrings(spec.get(1), ['namespace', 'verb', 'group', 'version', 'resource', 'subresource', 'name']);
  const nonResource = protoStrings(spec.get(2), ['path', 'verb']);
  return { ...(resource ? { resourceAttributes: resource } : {}), ...(nonResource ? { nonResourceAttributes: nonResource } : {}) };
}
