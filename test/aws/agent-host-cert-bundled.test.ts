// The agent's certificate route as deployed: the bundled auth function in its own process, with
// the environment the stack sets (KUBEPORT_AGENT_ROLE_ARN, KUBEPORT_AGENT_HOST_NAMES), the host CA
// key in the KMS stand-in, behind the SigV4-verifying API Gateway stand-in. The agent's own client
// gets a certificate the KMS-held host CA signed; a function deployed without an agent answers 404.
import { X509Certificate } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentHostCertificateClient } from '../../lib/adapters/aws/agent-host-certificate-client.js';
import { systemClock } from '../../lib/adapters/system.js';
import { ACCOUNT, type AwsMode, REGION, startAwsMode } from '../support/aws-mode.js';
import type { BundledFunction } from '../support/bundled-function.js';
import { type IamApiGateway, type IamPrincipal, startIamApiGateway } from '../support/iam-api-gateway.js';

const agent: IamPrincipal = {
  accessKeyId: 'ASIABUNDLEDAGENT',
  secretAccessKey: 'bundled-agent-secret',
  sessionToken: 'bundled-agent-token',
  userArn: `arn:aws:sts::${ACCOUNT}:assumed-role/kubeport-agent/ecs-task-7`,
  granted: true,
};
const credentials = { accessKeyId: agent.accessKeyId, secretAccessKey: agent.secretAccessKey, sessionToken: agent.sessionToken! };

describe('the bundled auth function issues the agent certificate', () => {
  let aws: AwsMode;
  let withAgent: BundledFunction;
  let withoutAgent: BundledFunction;
  const gateways: IamApiGateway[] = [];
  const gatewayTo = async (fn: BundledFunction) => {
    const gateway = await startIamApiGateway({
      region: REGION,
      deploymentAccount: ACCOUNT,
      principals: [agent],
      route: () => (event) => fn.http(event),
    });
    gateways.push(gateway);
    return agentHostCertificateClient({ apiUrl: `http://${gateway.proxy}`, region: REGION, credentials, clock: systemClock });
  };

  beforeAll(async () => {
    aws = await startAwsMode('unused-github-secret');
    const bootstrap = await aws.start('caBootstrap');
    expect((await aws.cloudFormation(bootstrap, 'Create', aws.githubProperties())).body.Status).toBe('SUCCESS');
    withAgent = await aws.start(
      'auth',
      aws.env('auth', {
        KUBEPORT_AGENT_ROLE_ARN: `arn:aws:iam::${ACCOUNT}:role/kubeport-agent`,
        KUBEPORT_AGENT_HOST_NAMES: 'agent.kubeport.example.com',
      }),
    );
    withoutAgent = await aws.start('auth', aws.env('auth'));
  }, 120_000);
  afterAll(async () => {
    for (const gateway of gateways) await gateway.close();
    await aws?.close();
  });

  it('the agent role gets a certificate for the configured name, signed by the KMS-held host CA, audited', async () => {
    const tls = await (await gatewayTo(withAgent))();
    const cert = new X509Certificate(tls.certPem);
    expect(cert.subjectAltName).toBe('DNS:agent.kubeport.example.com');
    const hostCa = (await aws.resources.get<{ active: { cert_pem: string } }>('cert_authority', 'host'))!.body.active.cert_pem;
    expect(cert.verify(new X509Certificate(hostCa).publicKey)).toBe(true);
    expect(tls.hostCas).toEqual([hostCa]);
    const events = await aws.audit.search({
      from: new Date(Date.now() - 600_000),
      to: new Date(Date.now() + 60_000),
      event: 'cert.create',
    });
    expect(events.events).toEqual([expect.objectContaining({ cert_type: 'host', user: `aws:${agent.userArn}` })]);
  });

  it('a function deployed without an agent answers 404', async () => {
    await expect((await gatewayTo(withoutAgent))()).rejects.toThrow(/refused: 404 not_found/);
  });
});
