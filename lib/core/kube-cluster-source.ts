// Where a kube_cluster's API server is: an EKS cluster the agent describes and signs tokens for
// with its IAM identity, or an entry of the kubeconfig the agent was given (local mode, clusters
// outside AWS). Written the way Teleport users write kube_cluster v3, with `eks` in place of
// Teleport's `aws` matcher because Kubeport reaches the cluster itself rather than through a
// Teleport agent inside it.
import * as z from 'zod';

export const KUBE_CLUSTER_SOURCES = ['kubeconfig', 'eks'] as const;
export type KubeClusterSourceType = (typeof KUBE_CLUSTER_SOURCES)[number];

// EKS cluster names: 1-100 characters, a letter or digit first (CreateCluster's own rule).
const EKS_CLUSTER_NAME = /^[0-9A-Za-z][A-Za-z0-9_-]{0,99}$/;
const AWS_REGION = /^[a-z]{2}(-[a-z]+)+-\d+$/;
const IAM_ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/;

export const eksSourceSchema = z
  .object({
    /** The EKS cluster's name in its region (may differ from the kube_cluster's name). */
    name: z.string().regex(EKS_CLUSTER_NAME, 'an EKS cluster name: letters, digits, - and _, a letter or digit first, at most 100'),
    region: z.string().regex(AWS_REGION, 'an AWS region such as eu-west-1'),
    /** A role in the cluster's account for the agent to assume (the cluster lives in another account). */
    role_arn: z.string().regex(IAM_ROLE_ARN, 'an IAM role ARN such as arn:aws:iam::123456789012:role/kubeport-agent').optional(),
  })
  .strict();
export type EksSource = z.infer<typeof eksSourceSchema>;

export const kubeClusterSpecSchema = z
  .object({
    /** Absent: `eks` when an eks block is given, else `kubeconfig`. */
    source: z.enum(KUBE_CLUSTER_SOURCES).optional(),
    eks: eksSourceSchema.optional(),
  })
  .strict()
  .superRefine((spec, ctx) => {
    if (spec.source === 'eks' && spec.eks === undefined) {
      ctx.addIssue({ code: 'custom', path: ['eks'], message: 'source eks needs eks: {name: <EKS cluster name>, region: <AWS region>}' });
    }
    if (spec.source === 'kubeconfig' && spec.eks !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['eks'], message: 'source kubeconfig takes no eks block; remove it, or write source: eks' });
    }
  })
  .default({});
export type KubeClusterSpec = z.infer<typeof kubeClusterSpecSchema>;

export type KubeClusterSource = { type: 'eks'; eks: EksSource } | { type: 'kubeconfig' };

/** The source a parsed spec names, its default applied. */
export function kubeClusterSource(spec: KubeClusterSpec): KubeClusterSource {
  return spec.eks !== undefined ? { type: 'eks', eks: spec.eks } : { type: 'kubeconfig' };
}
