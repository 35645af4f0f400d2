// How the agent's IAM role is known inside each EKS cluster: the stack's access entry (type
// STANDARD) maps the task role to this Kubernetes group, and the ClusterRole that
// `tctl kube bootstrap` prints (deploy/kubeport-impersonator.yaml) lets that group impersonate
// users, groups and service accounts, and nothing else.

/** The Kubernetes group the access entry gives the agent's role. */
export const IMPERSONATOR_GROUP = 'kubeport:impersonator';
/** The ClusterRole and ClusterRoleBinding name the bootstrap manifest uses. */
export const IMPERSONATOR_CLUSTER_ROLE = 'kubeport-impersonator';
