// The pure parts of the agent certificate route: which role ARN the stack may configure, which
// names a certificate may carry, which keys are taken, and who counts as the agent.
import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { awsCallerFromArn } from '../../lib/core/aws-caller.js';
import { agentPublicKeySpki, certificateNames, parseRoleArn, requireAgentRole } from '../../lib/services/agent-host-certificate.js';

describe('agent host certificate rules', () => {
  it('takes role ARNs with or without a path, in any partition; nothing else', () => {
    expect(parseRoleArn('arn:aws:iam::111122223333:role/kubeport-agent')).toEqual({
      partition: 'aws',
      account: '111122223333',
      name: 'kubeport-agent',
    });
    expect(parseRoleArn('arn:aws-us-gov:iam::111122223333:role/service/ecs/Agent_1')).toEqual({
      partition: 'aws-us-gov',
      account: '111122223333',
      name: 'Agent_1',
    });
    for (const bad of [
      'arn:aws:iam::111122223333:user/kubeport-agent',
      'arn:aws:sts::111122223333:assumed-role/kubeport-agent/s',
      'arn:aws:iam::11112222333:role/kubeport-agent',
      'arn:aws:iam::111122223333:role/',
      'arn:aws:iam:eu-west-1:111122223333:role/kubeport-agent',
      'arn:aws:iam::111122223333:role/kubeport agent',
    ])
      expect(parseRoleArn(bad), bad).toBeUndefined();
  });

  it('only a session of that role name, partition and account is the agent', () => {
    const role = parseRoleArn('arn:aws:iam::111122223333:role/service/kubeport-agent')!;
    const check = (arn: string) => () => requireAgentRole(awsCallerFromArn(arn), arn, role);
    expect(check('arn:aws:sts::111122223333:assumed-role/kubeport-agent/ecs-task')).not.toThrow();
    for (const arn of [
      'arn:aws:sts::444455556666:assumed-role/kubeport-agent/ecs-task',
      'arn:aws-cn:sts::111122223333:assumed-role/kubeport-agent/ecs-task',
      'arn:aws:sts::111122223333:assumed-role/kubeport-agent2/ecs-task',
      'arn:aws:sts::111122223333:assumed-role/Kubeport-Agent/ecs-task',
      'arn:aws:iam::111122223333:user/kubeport-agent',
      'arn:aws:iam::111122223333:root',
      'arn:aws:sts::111122223333:federated-user/kubeport-agent',
    ])
      expect(check(arn), arn).toThrow(/only sessions of the agent's role \(arn:aws:iam::111122223333:role\/kubeport-agent\)/);
  });

  it('splits names into DNS names and IPs, and refuses anything else at configuration', () => {
    expect(certificateNames(['Agent.Example.com', '52.1.2.3', '2001:db8::7'])).toEqual({
      dns: ['agent.example.com'],
      ips: ['52.1.2.3', '2001:db8::7'],
    });
    for (const bad of ['agent.example.com.', 'a b', 'agent_example.com', '-x.example.com', ''])
      expect(() => certificateNames([bad]), bad).toThrow();
    expect(() => certificateNames([])).toThrow(/name nothing/);
  });

  it('takes a P-256 SPKI in base64 only', () => {
    const p256 = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'der' });
    expect(Buffer.from(agentPublicKeySpki(p256.toString('base64')))).toEqual(p256);
    expect(() => agentPublicKeySpki(`!${p256.toString('base64')}`)).toThrow(/base64 DER/);
    expect(() => agentPublicKeySpki(p256.toString('hex').replace(/^/, '-'))).toThrow(/base64 DER/);
    expect(() => agentPublicKeySpki('A'.repeat(2000))).toThrow(/base64 DER/);
  });
});
