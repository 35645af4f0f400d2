// Roles as people write them (YAML), validated by the same schema tctl create uses, for tests
// that load them into the agent harness.
import { parse } from 'yaml';
import { type Role, parseResource } from '../../lib/core/resources.js';

export function roleFromYaml(text: string): Role {
  const parsed = parseResource(parse(text), 'test role');
  if (!parsed.ok) throw new Error(parsed.message);
  if (parsed.kind !== 'role') throw new Error(`test role: kind is ${parsed.kind}, not role`);
  return parsed.resource as Role;
}
