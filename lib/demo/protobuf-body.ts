// Request bodies in Kubernetes protobuf (application/vnd.kubernetes.protobuf), as kubectl's typed
// clients send them (`kubectl create configmap|secret` do), read into the JSON object the rest of
// the stand-in works with. Only the kinds it can store: ConfigMap and Secret, with the ObjectMeta
// fields a client sets. Replies stay JSON, which those clients accept too.
import type { JsonObject } from './patches.js';

export const PROTOBUF = 'application/vnd.kubernetes.protobuf';
const MAGIC = Buffer.from('k8s\0', 'latin1');

type Field = { number: number; varint?: bigint; bytes?: Buffer };

function* fields(buf: Buffer): Generator<Field> {
  let at = 0;
  const varint = (): bigint => {
    let value = 0n;
    for (let shift = 0n; ; shift += 7n) {
      if (at >= buf.length || shift > 63n) throw new Error('truncated varint');
      const byte = buf[at++]!;
      value |= BigInt(byte & 0x7f) << shift;
      if (byte < 0x80) return value;
    }
  };
  while (at < buf.length) {
    const key = Number(varint());
    const number = key >>> 3;
    switch (key & 7) {
      case 0:
        yield { number, varint: varint() };
        break;
      case 2: {
        const length = Number(varint());
        if (at + length > buf.length) throw new Error('truncated field');
        yield { number, bytes: buf.subarray(at, at + length) };
        at += length;
        break;
      }
      case 1:
        at += 8;
        break;
      case 5:
        at += 4;
        break;
      default:
        throw new Error(`unsupported wire type ${key & 7}`);
    }
  }
}

const text = (f: Field) => (f.bytes ?? Buffer.alloc(0)).toString('utf8');

/** A map<string, string|bytes> entry (key 1, value 2) into `into`. */
function mapEntry(entry: Buffer, into: JsonObject, bytes: boolean): void {
  let key = '';
  let value = '';
  for (const f of fields(entry)) {
    if (f.number === 1) key = text(f);
    if (f.number === 2) value = bytes ? (f.bytes ?? Buffer.alloc(0)).toString('base64') : text(f);
  }
  into[key] = value;
}

function objectMeta(buf: Buffer): JsonObject {
  const meta: JsonObject = {};
  const names: Record<number, string> = { 1: 'name', 2: 'generateName', 3: 'namespace', 5: 'uid', 6: 'resourceVersion' };
  for (const f of fields(buf)) {
    // Generated protobuf writes empty strings too; an empty field is an absent one.
    if (names[f.number]) {
      if (text(f)) meta[names[f.number]!] = text(f);
    } else if (f.number === 11 || f.number === 12)
      mapEntry(f.bytes!, (meta[f.number === 11 ? 'labels' : 'annotations'] ??= {}) as JsonObject, false);
    else if (f.number === 14) ((meta.finalizers ??= []) as string[]).push(text(f));
  }
  return meta;
}

/** The object in a protobuf body, as JSON; throws on a body it cannot read. */
export function decodeProtobufBody(body: Buffer): JsonObject {
  if (!body.subarray(0, 4).equals(MAGIC)) throw new Error('the body does not start with the protobuf magic number');
  let apiVersion = '';
  let kind = '';
  let raw: Buffer = Buffer.alloc(0);
  for (const f of fields(body.subarray(4))) {
    if (f.number === 1)
      for (const t of fields(f.bytes!)) {
        if (t.number === 1) apiVersion = text(t);
        if (t.number === 2) kind = text(t);
      }
    if (f.number === 2) raw = f.bytes!;
  }
  const object: JsonObject = { apiVersion, kind };
  // Field numbers of ConfigMap and Secret in k8s.io/api/core/v1/generated.proto.
  const layout: Record<number, [string, boolean?]> | undefined =
    kind === 'ConfigMap'
      ? { 2: ['data', false], 3: ['binaryData', true], 4: ['immutable'] }
      : kind === 'Secret'
        ? { 2: ['data', true], 3: ['type'], 4: ['stringData', false], 5: ['immutable'] }
        : undefined;
  if (!layout) throw new Error(`the stand-in reads protobuf for ConfigMap and Secret only, not ${kind || 'this kind'}`);
  for (const f of fields(raw)) {
    if (f.number === 1) object.metadata = objectMeta(f.bytes!);
    const [name, bytes] = layout[f.number] ?? [];
    if (!name) continue;
    if (name === 'immutable') object.immutable = f.varint === 1n;
    else if (name === 'type') object.type = text(f);
    else mapEntry(f.bytes!, (object[name] ??= {}) as JsonObject, bytes === true);
  }
  return object;
}
