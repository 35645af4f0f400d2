// tctl create against the real admin API: a file with problems gets every problem, each on its own
// line with file:line:column, document, field and fix, and the store is exactly as it was.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run as create } from '../../lib/client/commands/tctl-create.js';
import { type ClientHarness, startClientHarness, tctlRun } from './client-harness.js';

describe('tctl create with bad input', () => {
  let harness: ClientHarness;
  let dir: string;
  const snapshot = async () =>
    JSON.stringify(
      await Promise.all(
        ['role', 'user', 'kube_cluster'].map(async (kind) => (await harness.deps.resources.list(kind)).map((r) => [r.name, r.revision])),
      ),
    );
  const fileWith = (name: string, text: string) => {
    const file = join(dir, name);
    writeFileSync(file, text);
    return file;
  };

  beforeAll(async () => {
    harness = await startClientHarness();
    dir = mkdtempSync(join(tmpdir(), 'kubeport-create-'));
    // Something to collide with and to name.
    await create(
      { file: fileWith('base.yaml', 'kind: role\nversion: v7\nmetadata:\n  name: devs\nspec: {}\n'), force: false },
      tctlRun(harness).deps,
    );
  });
  afterAll(() => harness?.close());

  it.each<[string, string, string]>([
    [
      'a misspelled field, with the nearest one',
      'kind: role\nversion: v7\nmetadata:\n  name: ops\nspec:\n  allow:\n    kubernetes_group: [ops]\n',
      '{F} has a problem; nothing was changed:\n{F}:7:5: document 1 (role "ops"): spec.allow.kubernetes_group: unknown field; did you mean kubernetes_groups?',
    ],
    [
      'an unknown kind, with the nearest one',
      'kind: rol\nmetadata:\n  name: ops\n',
      '{F} has a problem; nothing was changed:\n{F}:1:1: document 1: kind: unknown kind "rol"; did you mean role? kinds are role, user, kube_cluster, github, lock',
    ],
    [
      'an invalid regular expression, in the words of the role schema',
      'kind: role\nversion: v8\nmetadata:\n  name: ops\n  revision: 5f2c\nspec:\n  allow:\n    kubernetes_labels:\n      env: ^[$\n',
      '{F} has a problem; nothing was changed:\n{F}:9:7: document 1 (role "ops"): spec.allow.kubernetes_labels.env: "^[$" is not a valid regular expression (missing closing ]: `[$`); fix it, or write a glob such as "web-*"',
    ],
    [
      'a user naming a role that does not exist',
      'kind: user\nversion: v2\nmetadata:\n  name: bob\nspec:\n  roles: [access, dvs]\n',
      '{F} has a problem; nothing was changed:\n{F}:6:19: document 1 (user "bob"): spec.roles[1]: role "dvs" does not exist; did you mean devs? create it first or in this file (roles: access, auditor, devs, editor)',
    ],
    [
      'an existing resource without --force',
      'kind: role\nversion: v7\nmetadata:\n  name: devs\nspec: {}\n',
      '{F} has a problem; nothing was changed:\n{F}:4:3: document 1 (role "devs"): metadata.name: role "devs" already exists; add --force to replace it',
    ],
    [
      'a built-in role without --force',
      'kind: role\nversion: v7\nmetadata:\n  name: access\nspec: {}\n',
      '{F} has a problem; nothing was changed:\n{F}:4:3: document 1 (role "access"): metadata.name: role "access" is a built-in role; add --force to replace it',
    ],
    [
      'several documents, every problem listed, good documents not written',
      [
        'kind: kube_cluster\nmetadata:\n  name: fine\n',
        'kind: role\nversion: v7\nmetadata:\n  name: ops\nspec:\n  options:\n    max_session_ttl: soon\n  allow:\n    kubernetes_groups: ops\n',
        'kind: user\nmetadata:\n  name: carol\nspec:\n  roles: [ops, nobody]\n',
        'kind: role\nversion: v7\nmetadata:\n  name: ops\nspec: {}\n',
      ].join('---\n'),
      [
        '{F} has 4 problems; nothing was changed:',
        '{F}:11:5: document 2 (role "ops"): spec.options.max_session_ttl: write a duration like 8h or 30m',
        '{F}:13:5: document 2 (role "ops"): spec.allow.kubernetes_groups: expected a list, got the string "ops"; write a list, e.g. [ops]',
        '{F}:19:16: document 3 (user "carol"): spec.roles[1]: role "nobody" does not exist; create it first or in this file (roles: access, auditor, devs, editor, ops)',
        '{F}:24:3: document 4 (role "ops"): metadata.name: also document 2; a file may hold each resource once',
      ].join('\n'),
    ],
    [
      'malformed YAML, with line and column',
      'kind: role\nmetadata:\n  name: [ops\n',
      '{F} has a problem; nothing was changed:\n{F}:4:1: YAML syntax: Flow sequence in block collection must be sufficiently indented and end with a ]',
    ],
    [
      'a duplicate key',
      'kind: role\nkind: user\n',
      '{F} has a problem; nothing was changed:\n{F}:2:1: YAML syntax: Map keys must be unique',
    ],
    [
      'a document that is not a mapping',
      '- kind: role\n',
      '{F} has a problem; nothing was changed:\n{F}:1:1: document 1: a document must be a mapping with kind, version, metadata and spec',
    ],
  ])('%s', async (_name, text, expected) => {
    const before = await snapshot();
    const file = fileWith('bad.yaml', text);
    const run = tctlRun(harness);
    const failure = await create({ file, force: false }, run.deps).then(
      () => undefined,
      (error: Error) => error,
    );
    expect(failure?.message).toBe(expected.replaceAll('{F}', file));
    expect(run.stdout.text()).toBe('');
    expect(await snapshot()).toBe(before);
  });

  it('a role created in the same file may be named by a user of the file, whatever the order; all are written', async () => {
    const file = fileWith(
      'team.yaml',
      'kind: user\nversion: v2\nmetadata:\n  name: dana\nspec:\n  roles: [team]\n---\nkind: role\nversion: v7\nmetadata:\n  name: team\nspec: {}\n',
    );
    const run = tctlRun(harness);
    await create({ file, force: false }, run.deps);
    expect(run.stdout.text()).toBe('user "dana" has been created\nrole "team" has been created\n');
    expect(await harness.deps.resources.get('role', 'team')).toBeDefined();
  });
});
