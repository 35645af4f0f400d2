// What one Kubernetes access decision costs: checkKubeResourceAccess with 100 roles loaded, the
// way the agent calls it for every request (roles cached, so each is compiled once).
//
// The 100 roles mix what real clusters hold: v7 and v8, label selectors with globs, lists and
// regexes (half of them miss the cluster), narrow kubernetes_resources with name/namespace globs
// and regexes, a templated namespace, and 10 deny roles. The request is allowed only by the last
// role, so every deny entry and every earlier allow entry is tried first (the worst case short of
// a refusal, which builds a message).
//
// Each decision is timed alone with process.hrtime.bigint (whose own cost, tens of ns, is in the
// figures); ops/s is decisions over the wall time of the timed loop. Aim: p50 < 10 µs.
import { checkKubeResourceAccess } from '../lib/core/kube-resource-access.js';
import type { KubeRequestInfo } from '../lib/core/kube-request-info.js';
import { type Role, parseResource } from '../lib/core/resources.js';

const ROLES = 100;
const WARMUP = 20_000;
const MEASURED = 200_000;

function role(index: number): Role {
  const deny = index % 10 === 9;
  const v7 = index % 3 === 0;
  const labels = index % 2 === 0 ? { env: ['dev', 'staging'], region: 'eu-*' } : { env: '^prod-[0-9]+$', team: `team-${index}` };
  const resources = v7
    ? [
        { kind: 'pod', namespace: `ns-${index}-*`, name: '^web-[a-z0-9]+$', verbs: ['get', 'list'] },
        { kind: 'deployment', namespace: `ns-${index}`, name: '*', verbs: ['get'] },
      ]
    : [
        { kind: 'pods', api_group: '', namespace: `ns-${index}-*`, name: 'web-*', verbs: ['get', 'exec'] },
        { kind: 'configmaps', api_group: '', namespace: '{{external.team}}', name: '*', verbs: ['get'] },
        { kind: 'widgets', api_group: 'example.com', namespace: '*', name: `^w-${index}-.*$`, verbs: ['*'] },
      ];
  const side = deny
    ? { deny: { kubernetes_labels: labels, kubernetes_resources: resources } }
    : { allow: { kubernetes_labels: labels, kubernetes_groups: ['{{internal.kubernetes_groups}}'], kubernetes_resources: resources } };
  const parsed = parseResource({ kind: 'role', version: v7 ? 'v7' : 'v8', metadata: { name: `role-${index}` }, spec: side });
  if (!parsed.ok) throw new Error(parsed.message);
  return parsed.resource as Role;
}

const roles = Array.from({ length: ROLES - 1 }, (_, i) => role(i));
const lastParsed = parseResource({
  kind: 'role',
  version: 'v8',
  metadata: { name: 'the-one' },
  spec: {
    allow: {
      kubernetes_labels: { env: 'dev' },
      kubernetes_resources: [{ kind: 'deployments', api_group: 'apps', namespace: 'payments', name: 'api', verbs: ['update'] }],
    },
  },
});
if (!lastParsed.ok) throw new Error(lastParsed.message);
roles.push(lastParsed.resource as Role);

const cluster = { name: 'dev-eu', labels: { env: 'dev', region: 'eu-west-1', team: 'core' } };
const traits = { team: ['core', 'platform'], kubernetes_groups: ['devs'] };
const request: KubeRequestInfo = {
  isResourceRequest: true,
  verb: 'update',
  apiPrefix: 'apis',
  apiGroup: 'apps',
  apiVersion: 'v1',
  namespace: 'payments',
  resource: 'deployments',
  subresource: '',
  name: 'api',
  path: '/apis/apps/v1/namespaces/payments/deployments/api',
};

const coldStart = process.hrtime.bigint();
checkKubeResourceAccess(roles, traits, cluster, request);
const coldUs = Number(process.hrtime.bigint() - coldStart) / 1000;

/** Times MEASURED decisions, each alone; `rolesFor` gives the role list of each call. */
function measure(rolesFor: () => Role[]): { p50: number; p99: number; perSecond: number } {
  for (let i = 0; i < WARMUP; i++) checkKubeResourceAccess(rolesFor(), traits, cluster, request);
  const samples = new Float64Array(MEASURED);
  const loopStart = process.hrtime.bigint();
  for (let i = 0; i < MEASURED; i++) {
    const list = rolesFor();
    const start = process.hrtime.bigint();
    checkKubeResourceAccess(list, traits, cluster, request);
    samples[i] = Number(process.hrtime.bigint() - start) / 1000;
  }
  const loopSeconds = Number(process.hrtime.bigint() - loopStart) / 1e9;
  samples.sort();
  const at = (q: number) => samples[Math.min(samples.length - 1, Math.floor(q * samples.length))]!;
  return { p50: at(0.5), p99: at(0.99), perSecond: Math.round(MEASURED / loopSeconds) };
}

const row = (title: string, r: { p50: number; p99: number; perSecond: number }) =>
  process.stdout.write(
    `  ${title.padEnd(48)}p50 ${r.p50.toFixed(2).padStart(6)} µs   p99 ${r.p99.toFixed(2).padStart(6)} µs   ${r.perSecond.toLocaleString('en-US').padStart(9)} decisions/s\n`,
  );

process.stdout.write(`role decision (checkKubeResourceAccess, ${ROLES} roles, allowed by the last one)\n`);
process.stdout.write(`  first call (compiles ${ROLES} roles)               ${coldUs.toFixed(0)} µs\n`);
// The agent's role cache hands out the same list while it is fresh: cluster labels are matched once per list.
row(
  'same role list (agent role cache)',
  measure(() => roles),
);
// A new list of the same role objects: every role's labels are matched on every call.
row(
  'new list each call (labels matched each time)',
  measure(() => roles.slice()),
);
