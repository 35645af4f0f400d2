// tsh: log in to Kubeport and reach Kubernetes clusters with kubectl. (kubectl's exec plugin, `tsh kube credentials`, starts from cli/tsh.mjs without this file.)
import { Command } from 'commander';
import { runCommand } from '../lib/client/run-command.js';
import { X509Certificate } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { ApiClient } from '../lib/client/api-client.js';
import { type KubeEntry, addEntries, profileEntryNames, readKubeconfigFile, removeEntries, withKubeconfig } from '../lib/client/kubeconfig-editor.js';
import { type LoginResponse, checkIssuedCertificate, newKeyPair, ping, profileFrom } from '../lib/client/login.js';
import { ask, isInteractive } from '../lib/client/prompt.js';
import { type Profile, type ProfileKeys, ProfileStore } from '../lib/client/profile-store.js';
import { normalizeProxy, tshConfig } from '../lib/client/tsh-config.js';
import { UsageError, currentProfile, loginHint, requireValid } from '../lib/client/session.js';
import { parseDuration } from '../lib/core/duration.js';
import { apiAudience } from '../lib/core/signed-request.js';

const config = tshConfig(process.env);
const store = new ProfileStore(config.home);
const tshScript = fileURLToPath(new URL('../cli/tsh.mjs', import.meta.url));

interface ClusterInfo {
  name: string;
  labels: Record<string, string>;
}

async function listClusters(profile: Profile, keys: ProfileKeys): Promise<ClusterInfo[]> {
  const api = new ApiClient(profile.proxy, apiAudience(profile.cluster));
  const answer = await api.call<{ clusters: ClusterInfo[] }>('GET', '/webapi/kube/clusters', undefined, { certPem: keys.certPem, keyPem: keys.keyPem });
  return answer.clusters;
}

function entryFor(profile: Profile, keys: ProfileKeys, kube: string): KubeEntry {
  const env = config.homeOverride ? [{ name: 'TSH_HOME', value: config.homeOverride }] : [];
  return {
    name: `${profile.cluster}-${kube}`,
    server: `https://${profile.agent}/k8s/${kube}`,
    caPem: keys.hostCaPem,
    profile: profile.proxy,
    exec: { command: process.execPath, args: [tshScript, 'kube', 'credentials', `--kube-cluster=${kube}`, `--proxy=${profile.proxy}`], env },
  };
}

async function writeKubeconfig(profile: Profile, keys: ProfileKeys, clusters: ClusterInfo[], select?: string): Promise<string | undefined> {
  const path = config.kubeconfig;
  return withKubeconfig(path, (config) => {
    removeEntries(config, profile.proxy);
    addEntries(config, clusters.map((c) => entryFor(profile, keys, c.name)));
    const wanted = select ?? (clusters.length > 0 ? clusters[0]!.name : undefined);
    if (wanted) config['current-context'] = `${profile.cluster}-${wanted}`;
    return wanted;
  });
}

async function login(flags: { proxy: string; user?: string; invite?: string; ttl?: string; kubeCluster?: string }) {
  const options = { ...flags, proxy: normalizeProxy(flags.proxy) };
  const api = new ApiClient(options.proxy);
  const pingAnswer = await ping(api);
  const user = options.user ?? (await ask('User: '));
  const ttlSeconds = options.ttl ? Math.round(parseDuration(options.ttl) / 1000) : undefined;
  const keys = newKeyPair();
  let answer: LoginResponse;
  if (options.invite) {
    const enrollment = await api.call<{ otpauth_uri: string }>('POST', '/webapi/local/invite/totp', { user, invite: options.invite });
    process.stderr.write(`\nWelcome, ${user}. Add this account to your authenticator app (TOTP):\n  ${enrollment.otpauth_uri}\n`);
    if (isInteractive()) {
      const qrcode = await import('qrcode');
      process.stderr.write(`${await qrcode.toString(enrollment.otpauth_uri, { type: 'terminal', small: true })}\n`);
    }
    const password = await ask('Choose a password (at least 12 characters): ', { secret: true });
    if (isInteractive() && (await ask('Repeat the password: ', { secret: true })) !== password) throw new UsageError('the passwords differ; run tsh login with the invite again');
    const code = await ask('Enter the 6-digit code from your authenticator app: ');
    answer = await api.call<LoginResponse>('POST', '/webapi/local/invite/complete', {
      user, invite: options.invite, password, totp_code: code.trim(), public_key: keys.publicKeyPem, ...(ttlSeconds ? { ttl_seconds: ttlSeconds } : {}),
    });
  } else {
    const password = await ask(`Password for ${user}: `, { secret: true });
    const code = await ask('Enter the 6-digit code from your authenticator app: ');
    answer = await api.call<LoginResponse>('POST', '/webapi/local/login', {
      user, password, totp_code: code.trim(), public_key: keys.publicKeyPem, ...(ttlSeconds ? { ttl_seconds: ttlSeconds } : {}),
    });
  }
  const cert = checkIssuedCertificate(answer.cert, keys, pingAnswer);
  const saved = profileFrom(options.proxy, pingAnswer, answer, cert, keys);
  store.save(saved.profile, saved.keys);
  const clusters = await listClusters(saved.profile, saved.keys);
  if (options.kubeCluster && !clusters.some((c) => c.name === options.kubeCluster)) {
    throw new UsageError(`kubernetes cluster "${options.kubeCluster}" not found or not allowed; tsh kube ls lists yours`);
  }
  const selected = await writeKubeconfig(saved.profile, saved.keys, clusters, options.kubeCluster);
  printStatus(saved.profile, cert);
  if (selected) process.stdout.write(`\nLogged into Kubernetes cluster ${selected}. Try: kubectl get pods\n`);
  else process.stdout.write('\nYour roles allow no Kubernetes cluster yet; ask an admin.\n');
}

function printStatus(profile: Profile, cert: X509Certificate) {
  const expires = new Date(cert.validTo);
  const left = Math.max(0, expires.getTime() - Date.now());
  const rows = [
    ['Profile URL', profile.proxy],
    ['Logged in as', profile.user],
    ['Cluster', profile.cluster],
    ['Roles', profile.roles.join(', ')],
    ['Kubernetes', 'enabled'],
    ['Kubernetes users', (profile.traits.kubernetes_users ?? []).join(', ')],
    ['Kubernetes groups', (profile.traits.kubernetes_groups ?? []).join(', ')],
    ['Valid until', `${expires.toISOString()} [valid for ${Math.floor(left / 3_600_000)}h${Math.floor((left % 3_600_000) / 60_000)}m0s]`],
  ];
  process.stdout.write(`> ${rows.map(([k, v]) => `${`${k}:`.padEnd(20)}${v}`).join('\n  ')}\n`);
}

async function kubeLs(options: { format?: string; proxy?: string }) {
  const { profile, keys } = currentProfile(store, options.proxy && normalizeProxy(options.proxy));
  requireValid(profile, keys);
  const clusters = await listClusters(profile, keys);
  const current = readKubeconfigFile(config.kubeconfig)['current-context'];
  const rows = clusters.map((c) => ({ kube_cluster_name: c.name, labels: c.labels, selected: current === `${profile.cluster}-${c.name}` }));
  if (options.format === 'json') {
    process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
    return;
  }
  const table = [['Kube Cluster Name', 'Labels', 'Selected'], ...rows.map((r) => [r.kube_cluster_name, Object.entries(r.labels).map(([k, v]) => `${k}=${v}`).join(' '), r.selected ? '*' : ''])];
  const widths = table[0]!.map((_, i) => Math.max(...table.map((row) => row[i]!.length)));
  const line = (row: string[]) => row.map((cell, i) => cell.padEnd(widths[i]!)).join(' ').trimEnd();
  process.stdout.write(`${[line(table[0]!), line(widths.map((w) => '-'.repeat(w))), ...table.slice(1).map(line)].join('\n')}\n`);
}

async function kubeLogin(name: string, options: { proxy?: string }) {
  const { profile, keys } = currentProfile(store, options.proxy && normalizeProxy(options.proxy));
  requireValid(profile, keys);
  const clusters = await listClusters(profile, keys);
  if (!clusters.some((c) => c.name === name)) throw new UsageError(`kubernetes cluster "${name}" not found or not allowed; tsh kube ls lists yours`);
  await writeKubeconfig(profile, keys, clusters, name);
  process.stdout.write(`Logged into Kubernetes cluster ${name}. Try: kubectl get pods\n`);
}

async function logout(options: { proxy?: string }) {
  const proxy = options.proxy ? normalizeProxy(options.proxy) : store.current();
  if (!proxy) {
    process.stdout.write('Not logged in.\n');
    return;
  }
  const removed = await withKubeconfig(config.kubeconfig, (config) => removeEntries(config, proxy));
  store.remove(proxy);
  process.stdout.write(`Logged out of ${proxy}${removed.length ? `; removed kubeconfig entries ${removed.join(', ')}` : ''}.\n`);
}

async function status(options: { proxy?: string }) {
  const { profile, keys } = currentProfile(store, options.proxy && normalizeProxy(options.proxy));
  const cert = new X509Certificate(keys.certPem);
  printStatus(profile, cert);
  const entries = profileEntryNames(readKubeconfigFile(config.kubeconfig), profile.proxy);
  if (Date.now() >= new Date(cert.validTo).getTime()) process.stdout.write(`  Session expired; run: ${loginHint(profile)}\n`);
  else if (entries.length) process.stdout.write(`  ${'Kube contexts:'.padEnd(20)}${entries.join(', ')}\n`);
}

const program = new Command('tsh').description('Kubeport client: log in, then use kubectl').showHelpAfterError();
program
  .command('login')
  .description('log in to a Kubeport proxy and set up kubectl')
  .requiredOption('--proxy <host:port>', 'address of the Kubeport API')
  .option('--user <name>', 'local user name')
  .option('--invite <token>', 'one-time invite from tctl users add (first login)')
  .option('--ttl <duration>', 'how long the certificate should last, e.g. 8h (capped by your roles)')
  .option('--kube-cluster <name>', 'Kubernetes cluster to select')
  .action(login);
program.command('status').description('show the current login').option('--proxy <host:port>').action(status);
program.command('logout').description('remove this login\'s keys and kubeconfig entries').option('--proxy <host:port>').action(logout);
const kube = program.command('kube').description('Kubernetes clusters');
kube.command('ls').description('list the clusters you may reach').option('--format <format>', 'text or json', 'text').option('--proxy <host:port>').action(kubeLs);
kube.command('login <cluster>').description('point kubectl at a cluster').option('--proxy <host:port>').action(kubeLogin);

await runCommand(program, 'tsh');
