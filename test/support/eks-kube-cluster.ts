// An EKS cluster for tests: the Kubernetes API stand-in (lib/demo) taking bearer tokens only as
// EKS does, through verifyEksToken (the STS stand-in's check: signature, expiry, x-k8s-aws-id =
// this cluster's name), then mapping the caller's role to Kubernetes groups through an access
// entry table (no entry: 401). Impersonation is allowed to IMPERSONATOR_GROUP only while the
// ClusterRole `tctl kube bootstrap` prints is "applied" (setImpersonatorBound). Registered in the
// EKS stand-in, so DescribeCluster returns its endpoint and CA.
import { IMPERSONATOR_GROUP } from '../../lib/core/eks-access.js';
import { type KubeApiServer, type KubeApiServerOptions, type TokenUser, startKubeApiServer } from '../../lib/demo/kube-apiserver.js';
import type { EksStandIn } from './eks-stand-in.js';
import type { StsStandIn } from './sts-stand-in.js';

/** The role ARN an access entry names for the agent's task role session. */
export const AGENT_TASK_ROLE_ARN = 'arn:aws:iam::111122223333:role/kubeport-agent';

export interface EksKubeClusterOptions {
  /** The EKS cluster's name: tokens must be signed for it. */
  name: string;
  sts: StsStandIn;
  /** Registers the cluster there (replacing one of the same name). */
  eks?: EksStandIn;
  /** Principal ARN (a role's ARN for its sessions) -> Kubernetes groups. Default: the agent's task role -> IMPERSONATOR_GROUP. */
  accessEntries?: Record<string, string[]>;
  /** The bootstrap ClusterRole is applied. @default true */
  impersonatorBound?: boolean;
  /** The stand-in's fixtures and streams (authentication is this module's). */
  kube?: Omit<KubeApiServerOptions, 'tokens' | 'authenticateToken' | 'impersonators' | 'impersonatorGroups'>;
}

export interface TokenVerdict {
  token: string;
  /** The principal the token was signed by, when it verified. */
  principalArn?: string;
  /** Why it was refused (bad token, or no access entry). */
  refused?: string;
}

export interface EksKubeCluster {
  name: string;
  kube: KubeApiServer;
  /** Principal ARN -> Kubernetes groups; change it to add or remove an access entry. */
  accessEntries: Map<string, string[]>;
  /** Every bearer token the cluster was given, in order, with its verdict. */
  tokens: TokenVerdict[];
  /** Applies (true) or deletes (false) the ClusterRole binding that lets IMPERSONATOR_GROUP impersonate. */
  setImpersonatorBound(bound: boolean): void;
  close(): Promise<void>;
}

export async function startEksKubeCluster(options: EksKubeClusterOptions): Promise<EksKubeCluster> {
  const accessEntries = new Map(Object.entries(options.accessEntries ?? { [AGENT_TASK_ROLE_ARN]: [IMPERSONATOR_GROUP] }));
  const impersonatorGroups = new Set<string>(options.impersonatorBound === false ? [] : [IMPERSONATOR_GROUP]);
  const tokens: TokenVerdict[] = [];
  const authenticateToken = (token: string): TokenUser | undefined => {
    let caller;
    try {
      caller = options.sts.verifyEksToken(token, options.name);
    } catch (error) {
      tokens.push({ token, refused: error instanceof Error ? error.message : String(error) });
      return undefined;
    }
    const groups = accessEntries.get(caller.principalArn);
    if (groups === undefined) {
      tokens.push({ token, principalArn: caller.principalArn, refused: `no access entry for ${caller.principalArn}` });
      return undefined;
    }
    tokens.push({ token, principalArn: caller.principalArn });
    // An access entry's default username for a role session is the session's STS ARN.
    return { username: caller.arn, groups: [...groups], uid: `aws-iam-authenticator:${caller.accountId}:${caller.userId}` };
  };
  const kube = await startKubeApiServer({ ...options.kube, authenticateToken, impersonators: [], impersonatorGroups });
  options.eks?.addCluster({
    name: options.name,
    endpoint: kube.url,
    caData: Buffer.from(kube.caPem).toString('base64'),
    status: 'ACTIVE',
  });
  return {
    name: options.name,
    kube,
    accessEntries,
    tokens,
    setImpersonatorBound: (bound) => {
      if (bound) impersonatorGroups.add(IMPERSONATOR_GROUP);
      else impersonatorGroups.delete(IMPERSONATOR_GROUP);
    },
    close: async () => {
      options.eks?.removeCluster(options.name);
      await kube.close();
    },
  };
}
