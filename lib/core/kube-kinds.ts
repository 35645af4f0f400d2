// What Kubeport knows about Kubernetes resource kinds: role v7's singular Teleport kinds and the
// plural resource + API group each converts to, the core (group "") resources, and which known
// resources are cluster-scoped. Unknown resources (CRDs) are handled conservatively by the caller.

/** Role v7 kind -> the v8 resource and API group it means (Teleport's conversion at read time). */
export const V7_KINDS: Readonly<Record<string, { resource: string; group: string }>> = {
  pod: { resource: 'pods', group: '' },
  secret: { resource: 'secrets', group: '' },
  configmap: { resource: 'configmaps', group: '' },
  namespace: { resource: 'namespaces', group: '' },
  service: { resource: 'services', group: '' },
  serviceaccount: { resource: 'serviceaccounts', group: '' },
  kube_node: { resource: 'nodes', group: '' },
  persistentvolume: { resource: 'persistentvolumes', group: '' },
  persistentvolumeclaim: { resource: 'persistentvolumeclaims', group: '' },
  deployment: { resource: 'deployments', group: 'apps' },
  replicaset: { resource: 'replicasets', group: 'apps' },
  statefulset: { resource: 'statefulsets', group: 'apps' },
  daemonset: { resource: 'daemonsets', group: 'apps' },
  clusterrole: { resource: 'clusterroles', group: 'rbac.authorization.k8s.io' },
  kube_role: { resource: 'roles', group: 'rbac.authorization.k8s.io' },
  rolebinding: { resource: 'rolebindings', group: 'rbac.authorization.k8s.io' },
  clusterrolebinding: { resource: 'clusterrolebindings', group: 'rbac.authorization.k8s.io' },
  cronjob: { resource: 'cronjobs', group: 'batch' },
  job: { resource: 'jobs', group: 'batch' },
  certificatesigningrequest: { resource: 'certificatesigningrequests', group: 'certificates.k8s.io' },
  ingress: { resource: 'ingresses', group: 'networking.k8s.io' },
};

/** v7 kinds that name cluster-scoped objects, so their entries need no namespace. */
export const V7_CLUSTER_WIDE_KINDS: ReadonlySet<string> = new Set([
  'namespace',
  'kube_node',
  'persistentvolume',
  'clusterrole',
  'clusterrolebinding',
  'certificatesigningrequest',
]);

/** Resources of the core group ("" in api_group). */
export const CORE_RESOURCES: ReadonlySet<string> = new Set([
  'bindings',
  'componentstatuses',
  'configmaps',
  'endpoints',
  'events',
  'limitranges',
  'namespaces',
  'nodes',
  'persistentvolumeclaims',
  'persistentvolumes',
  'pods',
  'podtemplates',
  'replicationcontrollers',
  'resourcequotas',
  'secrets',
  'serviceaccounts',
  'services',
]);

/** Known cluster-scoped resources, keyed "group/resource" ("" group for core). */
const CLUSTER_SCOPED: ReadonlySet<string> = new Set([
  '/namespaces',
  '/nodes',
  '/persistentvolumes',
  '/componentstatuses',
  'rbac.authorization.k8s.io/clusterroles',
  'rbac.authorization.k8s.io/clusterrolebindings',
  'apiextensions.k8s.io/customresourcedefinitions',
  'apiregistration.k8s.io/apiservices',
  'admissionregistration.k8s.io/mutatingwebhookconfigurations',
  'admissionregistration.k8s.io/validatingwebhookconfigurations',
  'admissionregistration.k8s.io/validatingadmissionpolicies',
  'admissionregistration.k8s.io/validatingadmissionpolicybindings',
  'certificates.k8s.io/certificatesigningrequests',
  'storage.k8s.io/storageclasses',
  'storage.k8s.io/csidrivers',
  'storage.k8s.io/csinodes',
  'storage.k8s.io/volumeattachments',
  'scheduling.k8s.io/priorityclasses',
  'node.k8s.io/runtimeclasses',
  'networking.k8s.io/ingressclasses',
  'networking.k8s.io/ipaddresses',
  'networking.k8s.io/servicecidrs',
  'flowcontrol.apiserver.k8s.io/flowschemas',
  'flowcontrol.apiserver.k8s.io/prioritylevelconfigurations',
  'authentication.k8s.io/tokenreviews',
  'authentication.k8s.io/selfsubjectreviews',
  'authorization.k8s.io/selfsubjectaccessreviews',
  'authorization.k8s.io/selfsubjectrulesreviews',
  'authorization.k8s.io/subjectaccessreviews',
]);

/** Known namespaced resources, keyed "group/resource": a v8 entry for one of them needs a namespace. */
const NAMESPACED: ReadonlySet<string> = new Set([
  '/pods',
  '/secrets',
  '/configmaps',
  '/services',
  '/serviceaccounts',
  '/persistentvolumeclaims',
  '/endpoints',
  '/events',
  '/limitranges',
  '/podtemplates',
  '/replicationcontrollers',
  '/resourcequotas',
  '/bindings',
  'apps/deployments',
  'apps/replicasets',
  'apps/statefulsets',
  'apps/daemonsets',
  'apps/controllerrevisions',
  'batch/jobs',
  'batch/cronjobs',
  'rbac.authorization.k8s.io/roles',
  'rbac.authorization.k8s.io/rolebindings',
  'networking.k8s.io/ingresses',
  'networking.k8s.io/networkpolicies',
  'autoscaling/horizontalpodautoscalers',
  'policy/poddisruptionbudgets',
  'coordination.k8s.io/leases',
  'discovery.k8s.io/endpointslices',
  'events.k8s.io/events',
  'storage.k8s.io/csistoragecapacities',
]);

export type Scope = 'cluster' | 'namespaced' | 'unknown';

export function resourceScope(group: string, resource: string): Scope {
  const key = `${group}/${resource}`;
  if (CLUSTER_SCOPED.has(key)) return 'cluster';
  if (NAMESPACED.has(key)) return 'namespaced';
  return 'unknown';
}

/** True for a known namespaced resource; group '*' asks whether any group has one of that name. */
export function isKnownNamespaced(group: string, resource: string): boolean {
  if (group !== '*') return NAMESPACED.has(`${group}/${resource}`);
  for (const key of NAMESPACED) if (key.endsWith(`/${resource}`)) return true;
  return false;
}

/** Verbs a kubernetes_resources entry may list (Teleport's, plus proxy as Teleport 17.7 added). */
export const KUBE_VERBS: readonly string[] = [
  'get',
  'list',
  'watch',
  'create',
  'update',
  'patch',
  'delete',
  'deletecollection',
  'exec',
  'portforward',
  'proxy',
];
