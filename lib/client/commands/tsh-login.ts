// tsh login: a local user (password and code, or an invite) or GitHub (in a browser, or headless
// from another device), as --auth, the last login and the proxy's default decide. Either way the
// key pair is made here and only its public half is sent; the certificate that comes back is
// checked, kept as the profile, and kubectl is pointed at the user's clusters.
import { chooseAuth } from '../auth-choice.js';
import { browserLogin } from '../browser-login.js';
import { cliCommand } from '../command-hint.js';
import { headlessLogin } from '../headless-login.js';
import { listClusters, requireCluster, warnIfUnhealthy, writeKubeconfig } from '../kube-clusters.js';
import { localLogin } from '../local-login.js';
import { type LoginResponse, checkIssuedCertificate, newKeyPair, ping, profileFrom } from '../login.js';
import { statusTable } from '../status-table.js';
import { UsageError } from '../usage-error.js';
import type { TshDeps } from './deps.js';

export interface TshLoginOptions {
  /** Without it, the current profile's proxy (and its user, unless --user is given), as Teleport's tsh does. */
  proxy?: string;
  user?: string;
  invite?: string;
  ttlSeconds?: number;
  kubeCluster?: string;
  /** local, github (the default GitHub connector) or a connector's name. */
  auth?: string;
  /** 'none': print GitHub's sign-in URL instead of opening a browser. */
  browser?: 'none';
  /** GitHub's device flow: sign in on another device with a code. */
  headless?: boolean;
}

function targetProxy(options: TshLoginOptions, deps: TshDeps): string {
  const proxy = options.proxy ?? deps.store.current();
  if (!proxy) throw new UsageError(`no previous login to reuse; run: ${cliCommand('tsh')} login --proxy=HOST:PORT`);
  return proxy;
}

export async function run(options: TshLoginOptions, deps: TshDeps): Promise<void> {
  const proxy = targetProxy(options, deps);
  const previous = deps.store.load(proxy)?.profile;
  const api = deps.api(proxy);
  const pingAnswer = await ping(api);
  const choice = chooseAuth(options, pingAnswer, previous?.auth);
  const keys = newKeyPair();
  let answer: LoginResponse;
  if (choice.kind === 'local') {
    // The last login's user, unless this is a first login with an invite or the last was GitHub's.
    const remembered = options.invite || (previous?.auth !== undefined && previous.auth !== 'local') ? undefined : previous?.user;
    const user = options.user ?? remembered ?? (await deps.prompt.ask('User: '));
    answer = await localLogin(deps, api, keys, { user, ...pick(options, 'invite', 'ttlSeconds') });
  } else if (options.headless) {
    answer = await headlessLogin(deps, api, keys, { connector: choice.connector, ...pick(options, 'ttlSeconds') });
  } else {
    answer = await browserLogin(deps, api, keys, { connector: choice.connector, ...pick(options, 'ttlSeconds', 'browser') });
  }
  const cert = checkIssuedCertificate(answer.cert, keys, pingAnswer);
  const saved = profileFrom(proxy, pingAnswer, answer, cert, keys, choice.kind === 'local' ? 'local' : choice.connector.name);
  deps.store.save({ ...saved.profile, cas_fetched: deps.clock.now().toISOString() }, saved.keys);
  const clusters = await listClusters(deps, saved.profile, saved.keys);
  if (options.kubeCluster) requireCluster(clusters, options.kubeCluster);
  const selected = await writeKubeconfig(deps, saved.profile, saved.keys, clusters, options.kubeCluster);
  deps.out.stdout.write(statusTable(saved.profile, cert, deps.clock.now()));
  if (selected) deps.out.stdout.write(`\nLogged into Kubernetes cluster ${selected}. Try: kubectl get pods\n`);
  else deps.out.stdout.write('\nYour roles allow no Kubernetes cluster yet; ask an admin.\n');
  warnIfUnhealthy(deps, clusters, selected);
}

/** The options among `keys` that are set (exactOptionalPropertyTypes keeps undefined out). */
function pick<K extends keyof TshLoginOptions>(options: TshLoginOptions, ...keys: K[]): { [P in K]?: NonNullable<TshLoginOptions[P]> } {
  const out: { [P in K]?: NonNullable<TshLoginOptions[P]> } = {};
  for (const key of keys) if (options[key] !== undefined) out[key] = options[key] as NonNullable<TshLoginOptions[K]>;
  return out;
}
