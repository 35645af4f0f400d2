// Kubernetes' (RFC 1123) name rules, used for cluster names wherever they enter: resources,
// request paths, flags and names derived from kubeconfig contexts.

/** A DNS-1123 label: lowercase letters, digits and '-', 1 to 63 characters, alphanumeric at both ends. */
export const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

export function isDnsLabel(value: string): boolean {
  return DNS_LABEL.test(value);
}

/** A DNS-1123 subdomain: labels joined by '.', at most 253 characters. */
export function isDnsSubdomain(value: string): boolean {
  return value.length <= 253 && value.split('.').every(isDnsLabel);
}
