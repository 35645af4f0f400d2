// tctl's one configuration schema: its global flags, read and checked once, every problem named
// with its flag. The data directory's default is declared once, with the identity's file name.
import { resolve } from 'node:path';
import { ADMIN_IDENTITY_FILE, DEFAULT_DATA_DIR } from './local-data-dir.js';
import { regionOfApiHost } from '../platform/aws-sigv4-signer.js';
import { Problems, normalizeProxy, tshHome } from './tsh-config.js';

export { DEFAULT_DATA_DIR };

/** tctl's global flags as commander hands them over. */
export interface RawTctlFlags {
  dataDir?: string;
  identity?: string;
  proxy?: string;
  awsIam?: boolean;
  awsRegion?: string;
}

/** What tctl reads from its environment: AWS settings (the SDK reads the credentials itself) and tsh's home. */
export interface TctlEnvironment {
  AWS_REGION?: string | undefined;
  AWS_DEFAULT_REGION?: string | undefined;
  TSH_HOME?: string | undefined;
  TELEPORT_HOME?: string | undefined;
}

export interface TctlConfig {
  /** The admin identity tctl signs with: --identity, else the one npm start wrote into --data-dir. */
  identityPath: string;
  /** Set when the identity comes from the data directory (it names the directory in messages). */
  dataDir?: string;
  /** --proxy, else the address the identity file (or the tsh login) names. */
  proxy?: string;
  /**
   * Where tsh keeps its profiles, set when neither --identity nor --data-dir was given: with no
   * admin identity in the default data directory, tctl signs with the current tsh login.
   */
  tshHome?: string;
  /** --aws-iam (break-glass): calls signed with the caller's AWS credentials, for this region's API. */
  awsIam?: { region: string };
}

const REGION = /^[a-z]{2}(-[a-z]+)+-\d+$/;

export function tctlConfig(raw: RawTctlFlags, env: TctlEnvironment = {}): TctlConfig {
  const problems = new Problems();
  if (raw.identity !== undefined && raw.identity.trim() === '') problems.add('--identity is empty');
  if (raw.dataDir !== undefined && raw.dataDir.trim() === '') problems.add('--data-dir is empty');
  const proxy = raw.proxy === undefined ? undefined : problems.check(() => normalizeProxy(raw.proxy!));
  const awsIam = raw.awsIam === true ? awsIamConfig(raw, proxy, env, problems) : undefined;
  if (raw.awsIam !== true && raw.awsRegion !== undefined) problems.add('--aws-region goes with --aws-iam');
  const home =
    raw.identity === undefined && raw.dataDir === undefined && !awsIam
      ? tshHome({ TSH_HOME: env.TSH_HOME, TELEPORT_HOME: env.TELEPORT_HOME }, problems)
      : undefined;
  problems.throwIfAny();
  const dataDir = resolve(raw.dataDir ?? DEFAULT_DATA_DIR);
  return {
    ...(raw.identity ? { identityPath: resolve(raw.identity) } : { identityPath: resolve(dataDir, ADMIN_IDENTITY_FILE), dataDir }),
    ...(proxy ? { proxy } : {}),
    ...(awsIam ? { awsIam } : {}),
    ...(home !== undefined ? { tshHome: home } : {}),
  };
}

function awsIamConfig(raw: RawTctlFlags, proxy: string | undefined, env: TctlEnvironment, problems: Problems) {
  for (const flag of ['identity', 'dataDir'] as const) {
    if (raw[flag] !== undefined)
      problems.add(`--aws-iam signs with AWS credentials, not an identity file; drop --${flag === 'dataDir' ? 'data-dir' : flag}`);
  }
  if (proxy === undefined) {
    problems.add('--aws-iam needs --proxy with the API host, e.g. --proxy=abc123.execute-api.eu-west-1.amazonaws.com');
    return undefined;
  }
  const region = raw.awsRegion ?? regionOfApiHost(proxy) ?? (env.AWS_REGION || env.AWS_DEFAULT_REGION);
  if (region === undefined) {
    problems.add(`--aws-iam cannot tell the region of ${proxy} (not an execute-api host); pass --aws-region or set AWS_REGION`);
    return undefined;
  }
  if (!REGION.test(region)) {
    problems.add(
      `${raw.awsRegion !== undefined ? '--aws-region' : 'the region'} ${JSON.stringify(region)} is not an AWS region such as eu-west-1`,
    );
    return undefined;
  }
  return { region };
}

/** A comma-separated list flag (--roles, --kubernetes-groups): trimmed, empty items dropped. */
export const listFlag = (value: string | undefined) =>
  value
    ? value
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== '')
    : [];
