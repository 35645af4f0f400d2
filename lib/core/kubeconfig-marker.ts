/** Extension name that marks the kubeconfig entries tsh writes (clusters, users and contexts). */
export const KUBEPORT_KUBECONFIG_MARKER = 'kubeport.dev/profile';
