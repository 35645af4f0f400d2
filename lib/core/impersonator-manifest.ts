// The Kubernetes objects each EKS cluster needs before the agent may act for users: a ClusterRole
// allowing `impersonate` on users, groups and service accounts and nothing else (no reads, no
// writes, no user extras, no other verbs), bound to the group the stack's access entry gives the
// agent's IAM role. `tctl kube bootstrap CLUSTER` prints it; deploy/kubeport-impersonator.yaml is
// the same text (a test keeps them equal) for those who apply it from the repository.
import { IMPERSONATOR_CLUSTER_ROLE, IMPERSONATOR_GROUP } from './eks-access.js';

/** The manifest, ready for `kubectl apply -f -`. */
export function impersonatorManifest(): string {
  return `# Lets the Kubeport agent impersonate users, groups and service accounts, and nothing else.
# The stack's EKS access entry maps the agent's IAM role to the group ${IMPERSONATOR_GROUP}.
# Apply to each cluster: kubectl apply -f deploy/kubeport-impersonator.yaml
# (or: tctl kube bootstrap CLUSTER | kubectl apply -f -)
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: ${IMPERSONATOR_CLUSTER_ROLE}
  labels:
    app.kubernetes.io/managed-by: kubeport
rules:
  - apiGroups: ['']
    resources: ['users', 'groups', 'serviceaccounts']
    verbs: ['impersonate']
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: ${IMPERSONATOR_CLUSTER_ROLE}
  labels:
    app.kubernetes.io/managed-by: kubeport
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: ${IMPERSONATOR_CLUSTER_ROLE}
subjects:
  - apiGroup: rbac.authorization.k8s.io
    kind: Group
    name: ${IMPERSONATOR_GROUP}
`;
}

/** What `tctl kube bootstrap` prints for one cluster: a header naming it, then the manifest. */
export function bootstrapOutput(cluster: string, eks?: { name: string; region: string }): string {
  const target = eks ? `EKS cluster ${eks.name} in ${eks.region}` : 'the cluster its kubeconfig entry names';
  const context = eks ? `aws eks update-kubeconfig --name ${eks.name} --region ${eks.region}` : 'kubectl config use-context <its context>';
  return `# Kubeport impersonator for kube_cluster "${cluster}" (${target}).
# Needs an EKS access entry (type STANDARD) mapping the agent's IAM role to the Kubernetes group
# ${IMPERSONATOR_GROUP}; the stack creates it for the clusters in its context "clusters".
# Apply with an admin's kubectl on that cluster (${context}):
#   tctl kube bootstrap ${cluster} | kubectl apply -f -
${impersonatorManifest()}`;
}
