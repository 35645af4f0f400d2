// tsh login: with an invite, enroll (TOTP secret, then a password); without, password and code.
// Either way the key pair is made here and only its public half is sent; the certificate that
// comes back is checked, kept as the profile, and kubectl is pointed at the user's clusters.
import { listClusters, requireCluster, writeKubeconfig } from '../kube-clusters.js';
import { type LoginResponse, checkIssuedCertificate, newKeyPair, ping, profileFrom } from '../login.js';
import { askCode, askNewPassword } from '../login-prompts.js';
import { statusTable } from '../status-table.js';
import { cliCommand } from '../command-hint.js';
import { UsageError } from '../usage-error.js';
import type { TshDeps } from './deps.js';

export interface TshLoginOptions {
  /** Without it, the current profile's proxy (and its user, unless --user is given), as Teleport's tsh does. */
  proxy?: string;
  user?: string;
  invite?: string;
  ttlSeconds?: number;
  kubeCluster?: string;
}

/** The proxy and user to log in as: the flags, else the current profile's (also after it expired). */
function target(options: TshLoginOptions, deps: TshDeps): { proxy: string; user?: string } {
  const current = deps.store.current();
  const proxy = options.proxy ?? current;
  if (!proxy) throw new UsageError(`no previous login to reuse; run: ${cliCommand('tsh')} login --proxy=HOST:PORT --user=NAME`);
  const previous = deps.store.load(proxy)?.profile;
  const user = options.user ?? (options.invite ? undefined : previous?.user);
  return { proxy, ...(user ? { user } : {}) };
}

export async function run(options: TshLoginOptions, deps: TshDeps): Promise<void> {
  const { proxy, user: knownUser } = target(options, deps);
  const api = deps.api(proxy);
  const pingAnswer = await ping(api);
  const user = knownUser ?? (await deps.prompt.ask('User: '));
  const keys = newKeyPair();
  const ttl = options.ttlSeconds ? { ttl_seconds: options.ttlSeconds } : {};
  let answer: LoginResponse;
  if (options.invite) {
    const enrollment = await api.call<{ otpauth_uri: string }>('POST', '/webapi/local/invite/totp', { user, invite: options.invite });
    deps.out.stderr.write(
      `\nWelcome, ${user}. Add this account to your authenticator app (TOTP):\n  ${enrollment.otpauth_uri}\n` +
        '(Added it on an earlier try with this invite? It is the same account: use its code.)\n',
    );
    if (deps.prompt.interactive) {
      // Loaded only here: drawing a QR code is the one thing qrcode is for.
      const qrcode = await import('qrcode');
      deps.out.stderr.write(`${await qrcode.toString(enrollment.otpauth_uri, { type: 'terminal', small: true })}\n`);
    }
    const password = await askNewPassword(deps.prompt, deps.out.stderr);
    const code = await askCode(deps.prompt, deps.out.stderr);
    answer = await api.call<LoginResponse>('POST', '/webapi/local/invite/complete', {
      user,
      invite: options.invite,
      password,
      totp_code: code,
      public_key: keys.publicKeyPem,
      ...ttl,
    });
  } else {
    const password = await deps.prompt.ask(`Password for ${user}: `, { secret: true });
    const code = await askCode(deps.prompt, deps.out.stderr);
    answer = await api.call<LoginResponse>('POST', '/webapi/local/login', {
      user,
      password,
      totp_code: code,
      public_key: keys.publicKeyPem,
      ...ttl,
    });
  }
  const cert = checkIssuedCertificate(answer.cert, keys, pingAnswer);
  const saved = profileFrom(proxy, pingAnswer, answer, cert, keys);
  deps.store.save(saved.profile, saved.keys);
  const clusters = await listClusters(deps, saved.profile, saved.keys);
  if (options.kubeCluster) requireCluster(clusters, options.kubeCluster);
  const selected = await writeKubeconfig(deps, saved.profile, saved.keys, clusters, options.kubeCluster);
  deps.out.stdout.write(statusTable(saved.profile, cert, deps.clock.now()));
  if (selected) deps.out.stdout.write(`\nLogged into Kubernetes cluster ${selected}. Try: kubectl get pods\n`);
  else deps.out.stdout.write('\nYour roles allow no Kubernetes cluster yet; ask an admin.\n');
}
