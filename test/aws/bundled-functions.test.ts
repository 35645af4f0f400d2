// The functions as deployed: the built bundles (not the TypeScript sources), each in a Node process
// of its own with the stack's environment, reaching dynalite, s3rver and the KMS and Secrets
// Manager stand-ins through the SDK's AWS_ENDPOINT_URL_* variables. The CA bootstrap runs as
// CloudFormation runs it, then a GitHub admin logs in through the bundled auth handler and calls
// the bundled admin handler with the certificate.
import { X509Certificate, createPublicKey, randomBytes } from 'node:crypto';
import { GetPublicKeyCommand, ScheduleKeyDeletionCommand, SignCommand } from '@aws-sdk/client-kms';
import { makeKmsClient } from '../../lib/adapters/aws/clients.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient, type ClientError } from '../../lib/client/api-client.js';
import { awsSigV4Signer } from '../../lib/platform/aws-sigv4-signer.js';
import { type KeyPair, newKeyPair } from '../../lib/client/login.js';
import { openForClient } from '../../lib/core/client-seal.js';
import type { LoginResponse } from '../../lib/services/login-response.js';
import {
  ACCESS_KEYS,
  type AwsMode,
  CLUSTER_NAME,
  GITHUB_CLIENT_ID,
  GITHUB_SECRET_NAME,
  REGION,
  ROLES,
  USER_CA_KEY,
  startAwsMode,
} from '../support/aws-mode.js';
import { type IamPrincipal, startIamApiGateway } from '../support/iam-api-gateway.js';
import { principalDenied } from '../support/kms-policy-evaluation.js';
import { type BundledFunction, InvocationError } from '../support/bundled-function.js';
import { recordSession } from '../support/recorded-sessions.js';
import { browse } from '../support/scripted-browser.js';

const FIRST_SECRET = `first-${randomBytes(16).toString('hex')}`;
const ROTATED_SECRET = `rotated-${randomBytes(16).toString('hex')}`;

interface CaResource {
  active: { key_id: string; cert_pem: string };
}

describe('the bundled functions against loopback AWS stand-ins', () => {
  let aws: AwsMode;
  let bootstrap: BundledFunction;
  let adminFunction: BundledFunction;
  let nextUserId = 1000;
  /** Keeps what tsh keeps: its key pair, and the login it opened. */
  let admin: { keys: KeyPair; login: LoginResponse } | undefined;

  /** tsh login with GitHub, tsh's side: the console request, the browser at GitHub and back, the sealed answer at tsh's listener. */
  const githubLogin = async (
    login: string,
    teams: { organization: string; slug: string }[],
  ): Promise<{ keys: KeyPair; hops: string[]; login?: LoginResponse; error?: string }> => {
    const id = nextUserId++;
    aws.github.addUser({ id, login, teams });
    aws.github.signedIn = id;
    const keys = newKeyPair();
    const secretKey = randomBytes(32).toString('hex');
    // tsh's loopback listener is never reached: the browser stops at its URL, which carries the answer.
    const redirectUrl = `http://127.0.0.1:9/callback?secret_key=${secretKey}`;
    const started = await new ApiClient(aws.proxy).call<{ redirect_url: string }>('POST', '/webapi/github/login/console', {
      public_key: keys.publicKeyPem,
      redirect_url: redirectUrl,
    });
    const landing = await browse(started.redirect_url, { stopAt: (url) => url.port === '9' });
    const response = new URL(landing.url).searchParams.get('response');
    if (response === null) throw new Error(`the login ended at ${landing.url} (status ${landing.status}): ${landing.body.slice(0, 300)}`);
    const opened = JSON.parse(openForClient(secretKey, JSON.parse(response))) as LoginResponse | { error: string };
    return { keys, hops: landing.hops, ...('error' in opened ? { error: opened.error } : { login: opened }) };
  };
  const storedCa = async (type: 'user' | 'host') => (await aws.resources.get<CaResource>('cert_authority', type))!;

  beforeAll(async () => {
    aws = await startAwsMode(FIRST_SECRET);
    bootstrap = await aws.start('caBootstrap');
    await aws.start('auth');
    adminFunction = await aws.start('admin');
  }, 120_000);
  afterAll(() => aws?.close());

  it('the CA bootstrap (Create) makes both CAs with the KMS keys and the GitHub connector, and answers CloudFormation', async () => {
    const answer = await aws.cloudFormation(bootstrap, 'Create', aws.githubProperties());
    expect(answer.body).toMatchObject({
      Status: 'SUCCESS',
      PhysicalResourceId: 'kubeport-certificate-authorities',
      Data: { CreatedCertAuthorities: 'user,host', GitHubConnector: 'created' },
    });
    const userCa = await storedCa('user');
    expect(userCa.body.active.key_id).toBe(aws.kms.keys.get(USER_CA_KEY)!.arn);
    // The certificate is self-signed by the KMS stand-in's key: its public key is that key's.
    const cert = new X509Certificate(userCa.body.active.cert_pem);
    const kmsPublic = createPublicKey(aws.kms.keys.get(USER_CA_KEY)!.privateKey!);
    expect(cert.publicKey.export({ type: 'spki', format: 'der' })).toEqual(kmsPublic.export({ type: 'spki', format: 'der' }));
    expect(cert.verify(kmsPublic)).toBe(true);
    const connector = await aws.resources.get<{ spec: Record<string, unknown> }>('github', 'github');
    expect(connector!.body.spec).toMatchObject({
      client_id: GITHUB_CLIENT_ID,
      client_secret_source: 'secrets_manager',
      teams_to_roles: [{ organization: 'acme', team: 'platform-admins', roles: ['editor', 'access'] }],
    });
    expect(JSON.stringify(connector)).not.toContain(FIRST_SECRET);
    const events = await aws.audit.search({
      from: new Date(Date.now() - 3_600_000),
      to: new Date(Date.now() + 60_000),
      event: 'github.created',
    });
    expect(events.events.map((e) => e.user)).toEqual(['kubeport-deploy']);
  });

  it('walks the whole GitHub login through the bundled auth handler; the certificate chains to the user CA the bootstrap made', async () => {
    const result = await githubLogin('octo-admin', [{ organization: 'acme', slug: 'platform-admins' }]);
    expect(result.hops.map((u) => new URL(u).pathname)).toEqual(['/login/oauth/authorize', '/webapi/github/callback', '/callback']);
    const login = result.login!;
    expect(login.username).toBe('octo-admin');
    expect(login.roles.sort()).toEqual(['access', 'editor']);
    const userCaPem = (await storedCa('user')).body.active.cert_pem;
    expect(login.ca.user).toEqual([userCaPem]);
    const cert = new X509Certificate(login.cert);
    const ca = new X509Certificate(userCaPem);
    expect(cert.checkIssued(ca)).toBe(true);
    expect(cert.verify(ca.publicKey)).toBe(true);
    expect(cert.publicKey.export({ type: 'spki', format: 'der' })).toEqual(result.keys.publicKeyDer);
    expect(cert.subject).toContain('CN=octo-admin');
    // Signed by KMS, through the stand-in, with the auth function's role.
    expect(aws.kms.calls.get('Sign')).toBeGreaterThanOrEqual(3);
    admin = { keys: result.keys, login };
  });

  it('a GitHub user outside the admin teams is refused: the deployment connector maps only the admin teams', async () => {
    const result = await githubLogin('outsider', [{ organization: 'acme', slug: 'interns' }]);
    expect(result.login).toBeUndefined();
    expect(result.error).toContain('does not belong to any teams configured in connector github (your teams: acme/interns)');
  });

  it('a signed admin call (tctl get roles) with the GitHub admin certificate works through the bundled admin handler', async () => {
    expect(admin).toBeDefined();
    const client = new ApiClient(aws.proxy, `kubeport:${CLUSTER_NAME}`);
    const identity = { certPem: admin!.login.cert, keyPem: admin!.keys.privateKeyPem };
    const roles = await client.call<{ items: { metadata: { name: string } }[] }>(
      'GET',
      '/webapi/admin/resources/role',
      undefined,
      identity,
    );
    expect(roles.items.map((r) => r.metadata.name)).toEqual(expect.arrayContaining(['access', 'editor', 'auditor']));
    const shown = await client.call<{ items: { spec: Record<string, unknown> }[] }>(
      'GET',
      '/webapi/admin/resources/github/github',
      undefined,
      identity,
    );
    expect(shown.items[0]!.spec.client_secret_source).toBe('secrets_manager');
  });

  it('tsh play through the bundled admin handler reads the recording from the S3 bucket', async () => {
    const sid = await recordSession(aws.audit, aws.recordings, {
      user: 'octo-admin',
      start: new Date(Date.now() - 60_000),
      events: [[0.5, 'o', 'hello from the pod\r\n']],
      end: { afterSeconds: 2, exitCode: 0 },
    });
    const client = new ApiClient(aws.proxy, `kubeport:${CLUSTER_NAME}`);
    const identity = { certPem: admin!.login.cert, keyPem: admin!.keys.privateKeyPem };
    const cast = await client.text('GET', `/webapi/admin/recordings/${sid}`, identity);
    expect(cast).toContain('hello from the pod');
  });

  it('a second bootstrap (Update) replaces no CA and leaves the connector as it is', async () => {
    const before = { user: await storedCa('user'), host: await storedCa('host'), github: await aws.resources.get('github', 'github') };
    const properties = aws.githubProperties();
    const answer = await aws.cloudFormation(bootstrap, 'Update', properties, properties);
    expect(answer.body).toMatchObject({
      Status: 'SUCCESS',
      PhysicalResourceId: 'kubeport-certificate-authorities',
      Data: { CreatedCertAuthorities: '', GitHubConnector: 'unchanged' },
    });
    expect((await storedCa('user')).revision).toBe(before.user.revision);
    expect((await storedCa('host')).revision).toBe(before.host.revision);
    expect((await aws.resources.get('github', 'github'))!.revision).toBe(before.github!.revision);
  });

  it('refuses an event from another stack, whatever it asks: FAILED, and no connector or CA changes', async () => {
    const before = { user: await storedCa('user'), github: await aws.resources.get('github', 'github') };
    const forged = {
      ...aws.githubProperties(),
      GitHubClientId: 'Iv1.attacker',
      GitHubAdminTeams: ['evil/crew'],
      GitHubEndpointUrl: 'http://127.0.0.1:9',
      GitHubApiEndpointUrl: 'http://127.0.0.1:9',
    };
    const answer = await aws.cloudFormation(
      bootstrap,
      'Update',
      forged,
      forged,
      'arn:aws:cloudformation:us-east-1:999999999999:stack/evil/1',
    );
    expect(answer.body.Status).toBe('FAILED');
    expect(answer.body.Reason).toContain("does not come from this function's stack");
    expect((await storedCa('user')).revision).toBe(before.user.revision);
    expect((await aws.resources.get('github', 'github'))!.revision).toBe(before.github!.revision);
  });

  it("takes nothing from the event's properties: one naming this stack with other teams and endpoints leaves the connector the stack configured", async () => {
    const before = await aws.resources.get<{ spec: Record<string, unknown> }>('github', 'github');
    const forged = {
      ...aws.githubProperties(),
      Version: 'bundle-9999',
      GitHubClientId: 'Iv1.attacker',
      GitHubAdminTeams: ['evil/crew'],
      GitHubEndpointUrl: 'http://127.0.0.1:9',
      GitHubApiEndpointUrl: 'http://127.0.0.1:9',
      CallbackUrl: 'https://evil.example/webapi/github/callback',
    };
    const answer = await aws.cloudFormation(bootstrap, 'Update', forged, forged);
    expect(answer.body).toMatchObject({ Status: 'SUCCESS', Data: { GitHubConnector: 'unchanged' } });
    const after = await aws.resources.get<{ spec: Record<string, unknown> }>('github', 'github');
    expect(after!.revision).toBe(before!.revision);
    expect(after!.body.spec).toMatchObject({
      client_id: GITHUB_CLIENT_ID,
      teams_to_roles: [{ organization: 'acme', team: 'platform-admins' }],
    });
    expect(after!.body.spec).not.toHaveProperty('endpoint_url');
    expect(after!.body.spec).not.toHaveProperty('api_endpoint_url');
  });

  it('picks up the GitHub secret rotated in Secrets Manager at the first login after GitHub refuses the old one', async () => {
    const readsBefore = aws.secretsManager.calls.get('GetSecretValue') ?? 0;
    aws.secretsManager.put(GITHUB_SECRET_NAME, ROTATED_SECRET);
    aws.github.apps.get(GITHUB_CLIENT_ID)!.clientSecret = ROTATED_SECRET;
    const result = await githubLogin('after-rotation', [{ organization: 'acme', slug: 'platform-admins' }]);
    expect(result.error).toBeUndefined();
    expect(result.login!.username).toBe('after-rotation');
    expect(aws.secretsManager.calls.get('GetSecretValue')).toBe(readsBefore + 1);
  });

  it('tctl auth rotate (init) through the bundled auth function makes a new KMS key, labelled with the deployment, that only the signer roles may use to sign', async () => {
    const client = new ApiClient(aws.proxy, `kubeport:${CLUSTER_NAME}`);
    const identity = { certPem: admin!.login.cert, keyPem: admin!.keys.privateKeyPem };
    const known = new Set(aws.kms.keys.keys());
    const answer = await client.call<{ cas: { type: string; phase: string; trusted: string[] }[] }>(
      'POST',
      '/webapi/ca/rotate',
      { type: 'user', phase: 'init' },
      identity,
    );
    const user = answer.cas.find((ca) => ca.type === 'user')!;
    expect(user.phase).toBe('init');
    expect(user.trusted).toHaveLength(2);
    const created = [...aws.kms.keys.values()].filter((key) => !known.has(key.id));
    expect(created).toHaveLength(1);
    // Labels in the description, no tags (tagging would need kms:TagResource, which the auth role lacks).
    expect(created[0]!.tags).toEqual([]);
    expect(created[0]!.description).toContain(`kubeport:ca=${CLUSTER_NAME} kubeport:ca-type=user`);
    expect(principalDenied(created[0]!.policy!, 'kms:Sign', ROLES.auth)).toBe(false);
    expect(principalDenied(created[0]!.policy!, 'kms:Sign', ROLES.admin)).toBe(true);
    // With IAM as the stack writes it (nothing on CA keys), the key policy alone lets the auth role
    // sign and the admin role read the public key, but not sign or retire the key.
    const kmsAs = (name: 'auth' | 'admin') =>
      makeKmsClient({
        region: aws.kms.region,
        endpoint: aws.kms.url,
        credentials: { accessKeyId: ACCESS_KEYS[name], secretAccessKey: 's' },
      });
    const [asAuth, asAdmin] = [kmsAs('auth'), kmsAs('admin')];
    try {
      const sign = new SignCommand({
        KeyId: created[0]!.arn,
        Message: Buffer.alloc(32),
        MessageType: 'DIGEST',
        SigningAlgorithm: 'ECDSA_SHA_256',
      });
      await expect(asAuth.send(sign)).resolves.toMatchObject({ SigningAlgorithm: 'ECDSA_SHA_256' });
      await expect(asAdmin.send(new GetPublicKeyCommand({ KeyId: created[0]!.arn }))).resolves.toMatchObject({ KeySpec: 'ECC_NIST_P256' });
      await expect(asAdmin.send(sign)).rejects.toMatchObject({ name: 'AccessDeniedException' });
      await expect(asAdmin.send(new ScheduleKeyDeletionCommand({ KeyId: created[0]!.arn, PendingWindowInDays: 7 }))).rejects.toMatchObject({
        name: 'AccessDeniedException',
      });
    } finally {
      asAuth.destroy();
      asAdmin.destroy();
    }
    const stored = await aws.resources.get<{ next?: { key_id: string } }>('cert_authority', 'user');
    expect(stored!.body.next?.key_id).toBe(created[0]!.arn);
  });

  it('a bad environment fails the auth cold start, logged once as one line naming the variable', async () => {
    const broken = await aws.start('auth', aws.env('auth', { KUBEPORT_RESOURCES_TABLE: undefined }));
    const failure = await broken.http({} as never).then(
      () => undefined,
      (error: unknown) => error as InvocationError,
    );
    expect(failure).toBeInstanceOf(InvocationError);
    expect(failure!.init).toBe(true);
    expect(failure!.message).toContain('KUBEPORT_RESOURCES_TABLE');
    expect(broken.logLines()).toHaveLength(1);
    expect(broken.logLines()[0]).toContain('KUBEPORT_RESOURCES_TABLE');
  });

  it('a bad environment of the CA bootstrap answers CloudFormation FAILED naming the variable, instead of leaving it waiting', async () => {
    const broken = await aws.start('caBootstrap', aws.env('caBootstrap', { KUBEPORT_USER_CA_KEY_ID: undefined }));
    const answer = await aws.cloudFormation(broken, 'Create', aws.githubProperties());
    expect(answer.body.Status).toBe('FAILED');
    expect(answer.body.Reason).toContain('KUBEPORT_USER_CA_KEY_ID');
  });

  it('break-glass through the bundled admin function: a granted IAM principal creates a role, audited with its ARN; without the authorizer the same call is refused', async () => {
    const operator: IamPrincipal = {
      accessKeyId: 'AKIAOPERATOREXAMPLE',
      secretAccessKey: 'operator-secret',
      userArn: 'arn:aws:iam::123456789012:user/ops/operator',
      granted: true,
    };
    const signer = awsSigV4Signer({
      region: REGION,
      credentials: { accessKeyId: operator.accessKeyId, secretAccessKey: operator.secretAccessKey },
      clock: { now: () => new Date() },
    });
    const role = (name: string) => ({ kind: 'role', version: 'v7', metadata: { name }, spec: { allow: { kubernetes_groups: [name] } } });
    const gateway = (authorizer: boolean) =>
      startIamApiGateway({
        region: REGION,
        deploymentAccount: '123456789012',
        principals: [operator],
        route: () => (event) => adminFunction.http(event),
        authorizer,
      });

    const guarded = await gateway(true);
    try {
      await new ApiClient(guarded.proxy).call('POST', '/webapi/iam/admin/resources', { documents: [role('break-glass')] }, signer);
    } finally {
      await guarded.close();
    }
    expect(await aws.resources.get('role', 'break-glass')).toBeDefined();
    const events = await aws.audit.search({
      from: new Date(Date.now() - 3_600_000),
      to: new Date(Date.now() + 60_000),
      event: 'role.created',
    });
    expect(events.events.filter((e) => e.name === 'break-glass').map((e) => e.user)).toEqual([`aws:${operator.userArn}`]);

    // The IAM route deployed without the AWS_IAM authorizer: the event carries no authorization.iam.
    const unguarded = await gateway(false);
    try {
      const refused = await new ApiClient(unguarded.proxy)
        .call('POST', '/webapi/iam/admin/resources', { documents: [role('unguarded')] }, signer)
        .then(
          () => undefined,
          (error: ClientError) => error,
        );
      expect(refused?.status).toBe(401);
      expect(refused?.message).toMatch(/carries no IAM authorization/);
    } finally {
      await unguarded.close();
    }
    expect(await aws.resources.get('role', 'unguarded')).toBeUndefined();
  });

  it('no function wrote the GitHub client secret, old or rotated, to its log', () => {
    const lines = aws.logLines();
    // The functions did log (the bootstrap's results, the bad environments): the check has lines to look at.
    expect(lines.length).toBeGreaterThan(2);
    expect(lines.filter((line) => line.includes(FIRST_SECRET) || line.includes(ROTATED_SECRET))).toEqual([]);
  });
});
