// The part of IAM policy evaluation a KMS key policy needs. A Deny statement applies to a principal
// and action by its Principal, Action and aws:PrincipalArn conditions; a Deny the stand-in cannot
// evaluate (an unknown condition operator or key, NotAction, NotPrincipal) is refused when the key
// is created, so no test passes by a guard silently ignored. An Allow statement grants in one of
// two ways, as in KMS: naming the principal itself (or "*") grants outright; naming its account
// (the account root or the account id) delegates to IAM, which the caller passes in as a
// predicate. Allow statements with conditions, NotAction or NotPrincipal are refused likewise.

interface Statement {
  Sid?: string;
  Effect?: string;
  Principal?: unknown;
  NotPrincipal?: unknown;
  Action?: string | string[];
  NotAction?: unknown;
  Condition?: Record<string, Record<string, string | string[]>>;
}

const NEGATED_OPERATORS = new Set(['ArnNotEquals', 'ArnNotLike', 'StringNotEquals']);
const list = (value: string | string[]) => (Array.isArray(value) ? value : [value]);

function statements(policy: string): Statement[] {
  let document: unknown;
  try {
    document = JSON.parse(policy);
  } catch {
    throw new Error('The policy is not valid JSON');
  }
  const raw = (document as { Statement?: unknown })?.Statement;
  const all = Array.isArray(raw) ? raw : raw === undefined ? [] : [raw];
  if (all.some((statement) => typeof statement !== 'object' || statement === null)) throw new Error('Policy statements must be objects');
  return all as Statement[];
}

/** Throws, naming what the stand-in cannot evaluate in a Deny statement. */
export function validatePolicy(policy: string): void {
  for (const statement of statements(policy)) {
    if (statement.Effect === 'Allow') {
      if (statement.NotAction !== undefined || statement.NotPrincipal !== undefined || statement.Condition !== undefined)
        throw new Error('the stand-in evaluates no NotAction/NotPrincipal/Condition in an Allow');
      continue;
    }
    if (statement.Effect !== 'Deny') throw new Error(`statement Effect must be Allow or Deny, not ${String(statement.Effect)}`);
    if (statement.NotAction !== undefined || statement.NotPrincipal !== undefined)
      throw new Error('the stand-in evaluates no NotAction/NotPrincipal in a Deny');
    for (const action of list(statement.Action ?? [])) {
      if (/[*?]/.test(action) && action !== '*' && action.toLowerCase() !== 'kms:*')
        throw new Error(`the stand-in does not evaluate action pattern ${action} in a Deny`);
    }
    for (const [operator, keys] of Object.entries(statement.Condition ?? {})) {
      if (!NEGATED_OPERATORS.has(operator)) throw new Error(`the stand-in does not evaluate condition operator ${operator} in a Deny`);
      for (const key of Object.keys(keys)) {
        if (key.toLowerCase() !== 'aws:principalarn') throw new Error(`the stand-in does not evaluate condition key ${key} in a Deny`);
      }
    }
  }
}

/** IAM's ARN matching: each of the six colon-separated parts on its own, with * and ? wildcards. */
function arnMatches(pattern: string, arn: string): boolean {
  const patternParts = pattern.split(':');
  const arnParts = arn.split(':');
  if (patternParts.length < 6 || arnParts.length < 6) return false;
  const parts = (all: string[]) => [...all.slice(0, 5), all.slice(5).join(':')];
  const arnSix = parts(arnParts);
  return parts(patternParts).every((part, i) => {
    const regex = part
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replaceAll('*', '.*')
      .replaceAll('?', '.');
    return new RegExp(`^${regex}$`).test(arnSix[i]!);
  });
}

function actionMatches(actions: string | string[] | undefined, action: string): boolean {
  if (actions === undefined) return false;
  return list(actions).some(
    (pattern) => pattern === '*' || pattern.toLowerCase() === action.toLowerCase() || pattern.toLowerCase() === 'kms:*',
  );
}

function principalMatches(principal: unknown, principalArn: string): boolean {
  if (principal === '*') return true;
  const aws = (principal as { AWS?: string | string[] } | undefined)?.AWS;
  if (aws === undefined) return false;
  const account = principalArn.split(':')[4];
  return list(aws).some(
    (entry) => entry === '*' || entry === principalArn || entry === account || entry === `arn:aws:iam::${account}:root`,
  );
}

/** Whether a Deny statement of `policy` applies to `principalArn` doing `action`. */
export function principalDenied(policy: string, action: string, principalArn: string): boolean {
  return statements(policy).some((statement) => {
    if (statement.Effect !== 'Deny' || !actionMatches(statement.Action, action) || !principalMatches(statement.Principal, principalArn))
      return false;
    // Every operator of a condition block must hold for the statement to apply.
    return Object.entries(statement.Condition ?? {}).every(([operator, keys]) =>
      Object.values(keys).every((values) =>
        operator === 'StringNotEquals'
          ? !list(values).includes(principalArn)
          : !list(values).some((pattern) => arnMatches(pattern, principalArn)),
      ),
    );
  });
}

/** How an Allow statement's Principal covers a principal: outright, through its account (IAM decides), or not at all. */
function allowedHow(principal: unknown, principalArn: string): 'outright' | 'through-iam' | undefined {
  if (principal === '*') return 'outright';
  const aws = (principal as { AWS?: string | string[] } | undefined)?.AWS;
  if (aws === undefined) return undefined;
  const entries = list(aws);
  if (entries.some((entry) => entry === '*' || entry === principalArn)) return 'outright';
  const account = principalArn.split(':')[4];
  if (entries.some((entry) => entry === account || entry === `arn:aws:iam::${account}:root`)) return 'through-iam';
  return undefined;
}

/**
 * Whether `policy` lets `principalArn` do `action`, as KMS decides for a key in the principal's
 * account: no Deny applies, and an Allow names the principal, or an Allow names its account and
 * `iamAllows(action)` (what the principal's IAM policies grant) holds.
 */
export function policyAllows(policy: string, action: string, principalArn: string, iamAllows: (action: string) => boolean): boolean {
  if (principalDenied(policy, action, principalArn)) return false;
  const ways = statements(policy)
    .filter((statement) => statement.Effect === 'Allow' && actionMatches(statement.Action, action))
    .map((statement) => allowedHow(statement.Principal, principalArn));
  return ways.includes('outright') || (ways.includes('through-iam') && iamAllows(action));
}

/** The policy KMS gives a key created without one: the account administers it, through IAM. */
export function defaultKeyPolicy(accountId: string): string {
  return JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'Enable IAM User Permissions',
        Effect: 'Allow',
        Principal: { AWS: `arn:aws:iam::${accountId}:root` },
        Action: 'kms:*',
        Resource: '*',
      },
    ],
  });
}
