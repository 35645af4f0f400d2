// tctl's break-glass mode from the real process: tctl --aws-iam signs with the AWS credentials
// in its environment (SigV4) and reaches the admin function through the IAM-authorized routes of
// the API Gateway stand-in, with no identity file. Principals not granted the permission, wrong
// secrets, stale signatures and missing credentials each get one line and change nothing.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiHarness, startApiHarness } from '../support/api-harness.js';
import { searchEvents } from '../support/audit-events.js';
import { cliPath, node } from '../support/cli.js';
import type { IamPrincipal } from '../support/iam-api-gateway.js';

const region = 'eu-west-1';
const admin: IamPrincipal = {
  accessKeyId: 'ASIABREAKGLASS',
  secretAccessKey: 'break-glass-secret',
  sessionToken: 'break-glass-token',
  userArn: 'arn:aws:sts::111122223333:assumed-role/KubeportBreakGlass/oncall',
  granted: true,
};
const intern: IamPrincipal = {
  accessKeyId: 'AKIAINTERN',
  secretAccessKey: 'intern-secret',
  userArn: 'arn:aws:iam::111122223333:user/intern',
  granted: false,
};

describe('tctl --aws-iam (break-glass)', () => {
  let h: ApiHarness;
  let home: string;
  let gatewayAheadMs = 0;

  /** tctl with only these AWS settings: no profile files, no instance metadata to fall back on. */
  const tctl = (credentials: Partial<IamPrincipal> | undefined, ...args: string[]) => {
    const env: NodeJS.ProcessEnv = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('AWS_')));
    Object.assign(env, {
      HOME: home,
      AWS_CONFIG_FILE: join(home, 'no-config'),
      AWS_SHARED_CREDENTIALS_FILE: join(home, 'no-credentials'),
      AWS_EC2_METADATA_DISABLED: 'true',
      AWS_REGION: region,
      ...(credentials?.accessKeyId ? { AWS_ACCESS_KEY_ID: credentials.accessKeyId } : {}),
      ...(credentials?.secretAccessKey ? { AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey } : {}),
      ...(credentials?.sessionToken ? { AWS_SESSION_TOKEN: credentials.sessionToken } : {}),
    });
    return node(cliPath('tctl'), args, { env, cwd: home });
  };
  const roleFile = (name: string) => {
    const file = join(home, `${name}.yaml`);
    writeFileSync(file, `kind: role\nversion: v7\nmetadata:\n  name: ${name}\nspec:\n  allow:\n    kubernetes_groups: [${name}]\n`);
    return file;
  };
  const roleExists = async (name: string) => (await h.deps.resources.get('role', name)) !== undefined;

  beforeAll(async () => {
    // The gateway checks signatures against real time (tctl signs with this machine's), moved by gatewayAhead.
    h = await startApiHarness(new Date(), {
      iam: { region, principals: [admin, intern], now: () => new Date(Date.now() + gatewayAheadMs) },
    });
    home = mkdtempSync(join(tmpdir(), 'kubeport-tctl-aws-iam-'));
  });
  afterAll(() => h?.close());

  it('get roles and create a role work with AWS credentials alone; the audit event names the ARN', async () => {
    const got = await tctl(admin, '--aws-iam', `--proxy=${h.proxy}`, 'get', 'roles', '--format=text');
    expect(got).toMatchObject({ code: 0, stderr: '' });
    expect(got.stdout).toMatch(/\beditor\b/);

    const created = await tctl(admin, '--aws-iam', `--proxy=${h.proxy}`, 'create', '-f', roleFile('oncall'));
    expect(created).toMatchObject({ code: 0, stderr: '', stdout: 'role "oncall" has been created\n' });
    const events = await searchEvents(h.deps.audit, {
      from: new Date(Date.now() - 600_000),
      to: new Date(Date.now() + 600_000),
      event: 'role.created',
    });
    expect(events).toEqual([
      expect.objectContaining({ user: 'aws:arn:aws:sts::111122223333:assumed-role/KubeportBreakGlass/oncall', name: 'oncall' }),
    ]);
  });

  it('audit search pages through --aws-iam, and its next-page command repeats --aws-iam', async () => {
    await tctl(admin, '--aws-iam', `--proxy=${h.proxy}`, 'create', '-f', roleFile('pager'));
    const first = await tctl(admin, '--aws-iam', `--proxy=${h.proxy}`, 'audit', 'search', '--type=role.created', '--limit=1');
    expect(first.code).toBe(0);
    const next = /next page: tctl (.*)\n/.exec(first.stderr)?.[1];
    expect(next).toMatch(/^--proxy=\S+ --aws-iam audit search /);
    const words = next!.split(' ').map((word) => word.replace(/^'(.*)'$/, '$1'));
    const second = await tctl(admin, ...words);
    expect(second).toMatchObject({ code: 0, stderr: '' });
    expect(first.stdout + second.stdout).toMatch(/oncall[\s\S]*pager|pager[\s\S]*oncall/);
  });

  it('a principal not granted the permission gets one line saying what it needs, and nothing changes', async () => {
    const refused = await tctl(intern, '--aws-iam', `--proxy=${h.proxy}`, 'create', '-f', roleFile('interns'));
    expect(refused.code).toBe(1);
    expect(refused.stdout).toBe('');
    expect(refused.stderr).toBe(
      'tctl: AWS refused the call signed with access key AKIAINTERN (Forbidden): the AWS principal needs execute-api:Invoke on ' +
        "the API's /webapi/iam/admin/* routes (the managed policy the stack outputs as BreakGlassPolicyArn), and the credentials and this computer's clock must be current\n",
    );
    expect(await roleExists('interns')).toBe(false);
  });

  it('a wrong secret is refused the same way and changes nothing', async () => {
    const refused = await tctl(
      { ...admin, secretAccessKey: 'guessed' },
      '--aws-iam',
      `--proxy=${h.proxy}`,
      'create',
      '-f',
      roleFile('guessed'),
    );
    expect(refused).toMatchObject({ code: 1, stdout: '' });
    expect(refused.stderr).toMatch(/^tctl: AWS refused the call signed with access key ASIABREAKGLASS \(Forbidden\): .*\n$/);
    expect(await roleExists('guessed')).toBe(false);
  });

  it('a signature 16 minutes old by the gateway’s clock (a replay, or a clock far off) is refused and changes nothing', async () => {
    gatewayAheadMs = 16 * 60_000;
    try {
      const refused = await tctl(admin, '--aws-iam', `--proxy=${h.proxy}`, 'create', '-f', roleFile('late'));
      expect(refused).toMatchObject({ code: 1, stderr: expect.stringMatching(/^tctl: AWS refused the call .*clock must be current\n$/) });
    } finally {
      gatewayAheadMs = 0;
    }
    expect(await roleExists('late')).toBe(false);
  });

  it('no AWS credentials: one line saying how to provide them', async () => {
    const result = await tctl(undefined, '--aws-iam', `--proxy=${h.proxy}`, 'get', 'roles');
    expect(result.code).toBe(1);
    expect(result.stderr.split('\n')).toHaveLength(2);
    expect(result.stderr).toMatch(
      /^tctl: --aws-iam found no usable AWS credentials \(.+\); set AWS_PROFILE to a profile \(after aws sso login --profile NAME for an SSO one\), or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY/,
    );
  });

  it('--aws-iam needs --proxy and takes no identity file; tctl --help documents it', async () => {
    const noProxy = await tctl(admin, '--aws-iam', 'get', 'roles');
    expect(noProxy).toMatchObject({ code: 1, stderr: expect.stringMatching(/^tctl: --aws-iam needs --proxy with the API host/) });
    const withIdentity = await tctl(admin, '--aws-iam', `--proxy=${h.proxy}`, '--identity=id.json', 'get', 'roles');
    expect(withIdentity.stderr).toMatch(/--aws-iam signs with AWS credentials, not an identity file; drop --identity/);
    const help = await tctl(undefined, '--help');
    expect(help.stdout).toMatch(/--aws-iam\s+break-glass: sign calls with your AWS credentials/);
    expect(help.stdout).toMatch(/--aws-region <region>/);
  });
});
