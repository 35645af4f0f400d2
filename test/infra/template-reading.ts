// Reading a synthesized template's JSON: resources by type, and a role's policy statements.

export interface Statement {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  Action: string | string[];
  Resource?: unknown;
  Principal?: unknown;
  Condition?: Record<string, Record<string, unknown>>;
}

type Resources = Record<string, { Type: string; Properties?: Record<string, unknown> }>;

export function resourcesOfType<R extends Resources>(resources: R, type: string): [string, R[string]][] {
  return Object.entries(resources).filter(([, resource]) => resource.Type === type) as [string, R[string]][];
}

/** Every statement of the AWS::IAM::Policy resources attached to the role with this logical id. */
export function policyStatements(resources: Resources, roleLogicalId: string): Statement[] {
  return resourcesOfType(resources, 'AWS::IAM::Policy')
    .filter(([, policy]) => (policy.Properties!.Roles as { Ref: string }[]).some((role) => role.Ref === roleLogicalId))
    .flatMap(([, policy]) => (policy.Properties!.PolicyDocument as { Statement: Statement[] }).Statement);
}

export const TEST_ACCOUNT = '123456789012';

/**
 * A template value with its references made concrete, as CloudFormation would in one account:
 * pseudo parameters, Fn::Join, and GetAtt Arn as a role ARN named after the logical id.
 */
export function concrete(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(concrete);
  if (typeof value !== 'object' || value === null) return value;
  const object = value as Record<string, unknown>;
  if ('Ref' in object) {
    const pseudo: Record<string, string> = {
      'AWS::Partition': 'aws',
      'AWS::AccountId': TEST_ACCOUNT,
      'AWS::Region': 'eu-west-1',
      'AWS::URLSuffix': 'amazonaws.com',
    };
    return pseudo[object.Ref as string] ?? object.Ref;
  }
  if ('Fn::GetAtt' in object) {
    const [logicalId, attribute] = object['Fn::GetAtt'] as [string, string];
    if (attribute !== 'Arn') throw new Error(`cannot make GetAtt ${logicalId}.${attribute} concrete`);
    return `arn:aws:iam::${TEST_ACCOUNT}:role/${logicalId}`;
  }
  if ('Fn::Join' in object) {
    const [separator, parts] = object['Fn::Join'] as [string, unknown[]];
    return parts.map(concrete).join(separator);
  }
  return Object.fromEntries(Object.entries(object).map(([key, inner]) => [key, concrete(inner)]));
}
