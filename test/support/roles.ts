// Roles as people write them (YAML), for tests that load them into the agent harness.
import { parse } from 'yaml';
import type { Role } from '../../lib/core/resources.js';

/** INTERIM until the roles branch's schema (v8, narrow kubernetes_resources) lands: no validation. */
export function roleFromYaml(text: string): Role {
  const document = parse(text) as Role;
  const { options = {}, allow = {}, deny = {} } = document.spec;
  return { ...document, spec: { options, allow, deny } };
}
