// tctl: the admin's tool. It signs its calls with --identity, else with AWS credentials
// (--aws-iam), else with the admin identity npm start writes into the data directory (local mode),
// else with the current tsh login. Flags to commands, nothing more: each command lives in lib/client/commands/ and is loaded when it runs.
import { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { adminClient } from '../lib/client/admin-client.js';
import { ApiClient } from '../lib/client/api-client.js';
import type { TctlDeps } from '../lib/client/commands/deps.js';
import { endQuietlyWhenStdoutCloses, runCommand } from '../lib/client/run-command.js';
import { DEFAULT_DATA_DIR, type RawTctlFlags, listFlag, tctlConfig } from '../lib/client/tctl-config.js';

// cli/tctl.mjs runs this file through tsx's require hook, which starts much faster than the ESM
// loader; each command's module is required when the command runs, so a command loads only
// what it uses.
interface Commands {
  'tctl-users-add': typeof import('../lib/client/commands/tctl-users-add.js');
  'tctl-users-ls': typeof import('../lib/client/commands/tctl-users-ls.js');
  'tctl-users-rm': typeof import('../lib/client/commands/tctl-users-rm.js');
  'tctl-users-update': typeof import('../lib/client/commands/tctl-users-update.js');
  'tctl-get': typeof import('../lib/client/commands/tctl-get.js');
  'tctl-create': typeof import('../lib/client/commands/tctl-create.js');
  'tctl-rm': typeof import('../lib/client/commands/tctl-rm.js');
  'tctl-users-reset': typeof import('../lib/client/commands/tctl-users-reset.js');
  'tctl-users-unlock': typeof import('../lib/client/commands/tctl-users-unlock.js');
  'tctl-status': typeof import('../lib/client/commands/tctl-status.js');
  'tctl-version': typeof import('../lib/client/commands/tctl-version.js');
  'tctl-lock': typeof import('../lib/client/commands/tctl-lock.js');
  'tctl-audit-search': typeof import('../lib/client/commands/tctl-audit-search.js');
  'tctl-auth-rotate': typeof import('../lib/client/commands/tctl-auth-rotate.js');
  'tctl-kube-bootstrap': typeof import('../lib/client/commands/tctl-kube-bootstrap.js');
}
const command = <K extends keyof Commands>(name: K): Commands[K] =>
  createRequire(import.meta.url)(`../lib/client/commands/${name}.js`) as Commands[K];
const clock = { now: () => new Date() };

const program = new Command('tctl')
  .description('Kubeport admin tool')
  .addHelpText(
    'after',
    `
Identity (the first that applies):
  1. --identity FILE
  2. --aws-iam (break-glass, with --proxy=<API host>)
  3. the admin identity npm start writes into the data directory (local mode)
  4. the current tsh login (tsh login --proxy=<API host>; $TSH_HOME, else ~/.tsh): calls go to its
     proxy only, and a --proxy naming another one is refused`,
  )
  .option('--data-dir <dir>', `local mode data directory holding the admin identity (default: "${DEFAULT_DATA_DIR}")`)
  .option('-i, --identity <file>', 'admin identity file')
  .option('--proxy <host:port>', 'address of the Kubeport API (default: from the identity or the tsh login)')
  .option(
    '--aws-iam',
    'break-glass: sign calls with your AWS credentials (default chain: AWS_PROFILE, aws sso login, AWS_ACCESS_KEY_ID...) instead of an identity; needs --proxy=<API host> and execute-api:Invoke on its /webapi/iam/admin/* routes (the policy the stack outputs as BreakGlassPolicyArn)',
  )
  .option('--aws-region <region>', 'region of the API for --aws-iam (default: from an execute-api host, else AWS_REGION)');

// Read when a command runs, so a bad flag is reported like any other user error.
function deps(): TctlDeps {
  const { AWS_REGION, AWS_DEFAULT_REGION, TSH_HOME, TELEPORT_HOME } = process.env;
  const config = tctlConfig(program.opts<RawTctlFlags>(), { AWS_REGION, AWS_DEFAULT_REGION, TSH_HOME, TELEPORT_HOME });
  const common = { out: process, clock, api: (proxy: string, audience?: string) => new ApiClient(proxy, audience, clock) };
  return { ...common, admin: () => adminClient(config, common) };
}

const users = program.command('users').description('manage users');
users
  .command('add <name>')
  .description('create a local user and print a one-time invite')
  .requiredOption('--roles <roles>', 'comma-separated roles, e.g. access')
  .option('--kubernetes-groups <groups>', 'comma-separated Kubernetes groups (trait kubernetes_groups)')
  .option('--kubernetes-users <users>', 'comma-separated Kubernetes users (trait kubernetes_users)')
  .action(async (name: string, flags: { roles: string; kubernetesGroups?: string; kubernetesUsers?: string }) => {
    const options = {
      name,
      roles: listFlag(flags.roles),
      kubernetesGroups: listFlag(flags.kubernetesGroups),
      kubernetesUsers: listFlag(flags.kubernetesUsers),
    };
    await command('tctl-users-add').run(options, deps());
  });
users
  .command('ls')
  .description('list users')
  .action(async () => command('tctl-users-ls').run({}, deps()));
users
  .command('update <name>')
  .description("replace a user's roles or Kubernetes groups and users (an empty list clears one)")
  .option('--set-roles <roles>', 'comma-separated roles, replacing the current ones')
  .option('--set-kubernetes-groups <groups>', 'comma-separated Kubernetes groups (trait kubernetes_groups)')
  .option('--set-kubernetes-users <users>', 'comma-separated Kubernetes users (trait kubernetes_users)')
  .action(async (name: string, flags: { setRoles?: string; setKubernetesGroups?: string; setKubernetesUsers?: string }) => {
    const given = (value: string | undefined) => (value === undefined ? undefined : listFlag(value));
    const options = {
      name,
      ...(flags.setRoles !== undefined ? { roles: given(flags.setRoles)! } : {}),
      ...(flags.setKubernetesGroups !== undefined ? { kubernetesGroups: given(flags.setKubernetesGroups)! } : {}),
      ...(flags.setKubernetesUsers !== undefined ? { kubernetesUsers: given(flags.setKubernetesUsers)! } : {}),
    };
    await command('tctl-users-update').run(options, deps());
  });
users
  .command('rm <name>')
  .description('remove a user')
  .action(async (name: string) => command('tctl-users-rm').run({ name }, deps()));
users
  .command('reset <name>')
  .description('clear the password and TOTP of a user, end its certificates and print a new invite')
  .action(async (name: string) => command('tctl-users-reset').run({ name }, deps()));
users
  .command('unlock <name>')
  .description('let a user locked out after failed logins log in again now')
  .action(async (name: string) => command('tctl-users-unlock').run({ name }, deps()));

program
  .command('status')
  .description('show the cluster: name, version, CA fingerprints, agent address, users and roles')
  .action(async () => command('tctl-status').run({}, deps()));
program
  .command('version')
  .description("print tctl's version")
  .action(async () => {
    const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
    await command('tctl-version').run({ version }, { out: process });
  });

program
  .command('get <resource>')
  .description('print resources: KIND or KIND/NAME (roles, users, kube_clusters, github connectors, locks)')
  .option('--format <format>', 'yaml, json or text', 'yaml')
  .action(async (resource: string, flags: { format: string }) => command('tctl-get').run({ resource, format: flags.format }, deps()));
program
  .command('create')
  .description('create or update resources from a YAML file')
  .requiredOption('-f, --file <file>', 'YAML file with one or more resources')
  .option('--force', 'replace resources that exist')
  .action(async (flags: { file: string; force?: boolean }) =>
    command('tctl-create').run({ file: flags.file, force: flags.force === true }, deps()),
  );
program
  .command('lock')
  .description('lock out a user, role, login or access request: new requests are refused and open streams end')
  .option('--user <name>', 'name of a user to lock out')
  .option('--role <name>', 'name of a role whose holders are locked out')
  .option('--login <name>', 'a login (trait logins) whose holders are locked out')
  .option('--access-request <id>', 'id of an access request to lock out')
  .option('--message <text>', 'message shown to whoever the lock refuses')
  .option('--ttl <duration>', 'time after which the lock expires, e.g. 5m or 2h')
  .option('--expires <time>', 'time (RFC 3339) at which the lock expires')
  .action(
    async (flags: {
      user?: string;
      role?: string;
      login?: string;
      accessRequest?: string;
      message?: string;
      ttl?: string;
      expires?: string;
    }) => command('tctl-lock').run(flags, deps()),
  );
const kube = program.command('kube').description('Kubernetes clusters');
kube
  .command('bootstrap <cluster>')
  .description('print the ClusterRole and binding that let the agent impersonate users in CLUSTER (pipe to kubectl apply -f -)')
  .action(async (cluster: string) => command('tctl-kube-bootstrap').run({ cluster }, deps()));
const audit = program.command('audit').description('search the audit log');
audit
  .command('search')
  .description('print audit events, newest first, a page at a time')
  .option('--since <time>', 'start: a duration back from now (30m, 1h, 7d) or an RFC 3339 time', '1h')
  .option('--until <time>', 'end: a duration back from now or an RFC 3339 time (default: now)')
  .option('--user <name>', 'only events of this user')
  .option('--type <event>', 'only events of this type, e.g. kube.request or exec')
  .option('--cluster <name>', 'only events on this Kubernetes cluster')
  .option('--namespace <name>', 'only events in this Kubernetes namespace')
  .option('--session <id>', 'only events of this session')
  .option('--limit <n>', 'events per page, 1 to 1000 (default: 100)')
  .option('--format <format>', 'text or json', 'text')
  .option('--cursor <cursor>', 'go on after the page that printed it')
  .action(async (flags: Record<string, string | undefined>) => {
    // The next-page command repeats tctl's own flags, so it reaches the same place.
    const globals = program.opts<Record<string, string | boolean | undefined>>();
    const globalFlags = (['dataDir', 'identity', 'proxy', 'awsIam', 'awsRegion'] as const)
      .filter((name) => globals[name] !== undefined)
      .map((name) => `--${name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}${globals[name] === true ? '' : `=${globals[name]}`}`);
    await command('tctl-audit-search').run({ ...flags, globalFlags }, deps());
  });
const auth = program.command('auth').description('manage the certificate authorities');
auth
  .command('rotate')
  .description(
    'rotate a CA: one phase at a time (init, update_clients, update_servers, standby), or automatically with --manual=false: ' +
      'init and update_clients last a tenth of the grace period each (3h for 30h) so every client fetches the new CA, ' +
      'then the new key signs (update_servers, as long again), then standby; the old key stays trusted for the grace period ' +
      'after it last signed. tctl status shows the phase and when the next one begins',
  )
  .option('--type <type>', 'which CA: user or host')
  .option('--phase <phase>', 'the phase to enter: init, update_clients, update_servers or standby')
  .option('--manual <bool>', 'false: run every phase on a schedule of --grace-period (see above)', 'true')
  .option(
    '--grace-period <duration>',
    'with --manual=false: how long the old key stays trusted after the new one signs (at least 30h, the longest certificate; default 30h)',
  )
  .action(async (flags: { type?: string; phase?: string; manual?: string; gracePeriod?: string }) =>
    command('tctl-auth-rotate').run(flags, deps()),
  );
program
  .command('rm <resource>')
  .description('remove a resource: KIND/NAME')
  .action(async (resource: string) => command('tctl-rm').run({ resource }, deps()));

// A failure ends at once; a success lets standard output drain and the process end by itself.
endQuietlyWhenStdoutCloses();
void runCommand(program, 'tctl', process.argv.slice(2), process.stderr).then((code) => {
  if (code !== 0) process.exit(code);
});
