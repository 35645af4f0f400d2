// Bench child of agent-aws.ts: what the agent in AWS mode talks to, in a process of its own so that
// it does not share an event loop with the load generator or the agent, as AWS's services and EKS
// do not: the stand-ins of test/support/agent-process.ts (DynamoDB, S3, STS, EKS, Route 53, the
// IAM-authorized API) and one EKS-like cluster. It hands the bench the agent's environment,
// certificates of the deployment for the users named in its argument (JSON), and an EKS token of
// the agent's task role for the direct path.
import { EksTokenSource } from '../lib/adapters/aws/eks-token.js';
import { systemClock } from '../lib/adapters/system.js';
import { AGENT_REGION, startAgentStandIns } from '../test/support/agent-process.js';
import { startEksKubeCluster } from '../test/support/eks-kube-cluster.js';
import { AGENT_TASK_ROLE } from '../test/support/sts-stand-in.js';
import { type PemPair, sendToParent, serveCommands } from './ipc.js';

export interface AwsStandInsStart {
  cluster: string;
  users: string[];
  groups: string[];
}

export interface AwsStandInsReady {
  type: 'ready';
  /** The environment ECS and the stack would give the agent, serving `cluster`. */
  env: Record<string, string>;
  /** A temporary directory removed as this process stops. */
  dir: string;
  /** The CA of the agent's host certificate, as tsh hands it to kubectl. */
  hostCaPem: string;
  cluster: { port: number; caPem: string };
  /** An EKS token of the agent's task role for `cluster`, valid for 15 minutes. */
  token: string;
  users: Record<string, PemPair>;
}

const start = JSON.parse(process.argv[2] ?? '') as AwsStandInsStart;
const aws = await startAgentStandIns();
const cluster = await startEksKubeCluster({ name: start.cluster, sts: aws.sts, eks: aws.eks });
serveCommands(async () => {
  await cluster.close();
  await aws.close();
});
const users: Record<string, PemPair> = {};
for (const username of start.users) {
  const traits = { kubernetes_groups: start.groups };
  await aws.api.deps.resources.put('user', username, {
    kind: 'user',
    version: 'v2',
    metadata: { name: username },
    spec: { roles: ['access'], traits },
  });
  users[username] = await aws.api.identity({ username, roles: ['access'], traits });
}
const tokens = new EksTokenSource({
  clusterName: start.cluster,
  region: AGENT_REGION,
  credentials: async () => AGENT_TASK_ROLE,
  clock: systemClock,
  stsEndpoint: aws.sts.url,
});
await sendToParent({
  type: 'ready',
  env: aws.env({ KUBEPORT_EKS_CLUSTERS: start.cluster }),
  dir: aws.dir,
  hostCaPem: aws.api.hostCa.certPem,
  cluster: { port: cluster.kube.port, caPem: cluster.kube.caPem },
  token: await tokens.token(),
  users,
} satisfies AwsStandInsReady);
