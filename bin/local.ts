// npm start: Kubeport on this machine. Parses flags once, starts local mode, prints what runs
// where and what to type next, and stops cleanly on Ctrl-C.
import { Command, Option } from 'commander';
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { readKubeconfig } from '../lib/adapters/local/kubeconfig-source.js';
import { lockDataDir } from '../lib/app/data-dir-lock.js';
import { cliCommand } from '../lib/client/command-hint.js';
import { showShortUsageAfterError } from '../lib/client/short-usage.js';
import { startLocalMode } from '../lib/app/local-mode.js';
import { systemClock, systemRandom } from '../lib/adapters/system.js';
import { DEMO_GITHUB_USERS } from '../lib/demo/github/demo-github.js';
import { type DemoCluster, startDemoCluster } from './demo-cluster.js';
import { LOCAL_DEFAULTS, parseLocalConfig, type LocalConfig } from './local-config.js';

const version = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;

const program = new Command('npm start --')
  .description('Run Kubeport on this machine (local mode): auth API, agent, embedded DynamoDB and S3')
  .option('--kubeconfig <file>', 'kubeconfig whose contexts become clusters (default: $KUBECONFIG, else ~/.kube/config)')
  // Defaults live in local-config.ts (LOCAL_DEFAULTS); the help only shows them.
  .option('--api-addr <host:port>', `where the auth and admin API listens (default: ${LOCAL_DEFAULTS.apiAddr})`)
  .option('--agent-addr <host:port>', `where the agent (kubectl's endpoint) listens (default: ${LOCAL_DEFAULTS.agentAddr})`)
  .option('--data-dir <dir>', `where users, roles, keys and audit are kept (default: ${LOCAL_DEFAULTS.dataDir})`)
  .option('--cluster-name <name>', `name of this Kubeport cluster (default: ${LOCAL_DEFAULTS.clusterName})`)
  .addOption(
    new Option('--cluster-labels <spec>', 'labels of a cluster, CLUSTER:KEY=VALUE[,KEY=VALUE]; repeatable').argParser(
      (value: string, previous: string[] = []) => [...previous, value],
    ),
  )
  .option('--cluster-labels-file <file>', 'YAML file mapping cluster names to labels')
  .option('--demo', 'also serve a built-in demo cluster (a small Kubernetes API stand-in), to try Kubeport without a cluster')
  .option(
    '--demo-github-addr <host:port>',
    `with --demo, where the demo GitHub (to try GitHub login) listens (default: ${LOCAL_DEFAULTS.demoGithubAddr})`,
  )
  .option(
    '--drain-timeout <duration>',
    `on SIGTERM or Ctrl-C, how long open kubectl streams (exec, port-forward, watches) may run on before they are ended (default: ${LOCAL_DEFAULTS.drainTimeout})`,
  )
  .exitOverride((error) => process.exit(error.exitCode === 0 ? 0 : 2));

showShortUsageAfterError(program);

function fail(message: string): never {
  process.stderr.write(`kubeport: ${message}\n`);
  process.exit(2);
}

async function main() {
  program.parse(process.argv.slice(2), { from: 'user' });
  const raw = program.opts<Record<string, unknown>>();
  let flags: LocalConfig;
  let kubeconfig;
  let demo: DemoCluster | undefined;
  try {
    flags = parseLocalConfig(raw, process.env);
    // Before anything else touches the data directory, the demo's files included.
    const lock = lockDataDir(flags.dataDir);
    process.on('exit', () => lock.release());
    const agentAddresses = [`${flags.agentAddr.host}:${flags.agentAddr.port}`, `localhost:${flags.agentAddr.port}`];
    kubeconfig = flags.kubeconfig ? readKubeconfig(flags.kubeconfig, agentAddresses) : { clusters: [], skipped: [] };
    if (flags.demo) {
      demo = await startDemoCluster(flags.dataDir, {
        githubAddr: flags.demoGithubAddr,
        apiUrl: `http://${flags.apiAddr.host}:${flags.apiAddr.port}`,
      });
      const demoNames = new Set(demo.clusters.map((c) => c.name));
      const clash = kubeconfig.clusters.find((c) => demoNames.has(c.name));
      if (clash)
        throw new Error(`--demo: the kubeconfig already has a cluster named ${clash.name}; rename that context or leave out --demo`);
      kubeconfig.clusters.push(...readKubeconfig(demo.kubeconfig, agentAddresses).clusters);
      // The demo clusters' own labels (env=dev, env=prod); --cluster-labels for them wins.
      flags.clusterLabels = { ...Object.fromEntries(demo.clusters.map((c) => [c.name, c.labels])), ...flags.clusterLabels };
    }
  } catch (error) {
    await demo?.close();
    fail((error as Error).message);
  }
  for (const skipped of kubeconfig.skipped) process.stderr.write(`kubeport: skipping context ${skipped.context}: ${skipped.reason}\n`);
  if (kubeconfig.clusters.length === 0)
    fail(`kubeconfig ${flags.kubeconfig ?? ''} has no usable context; pass --kubeconfig FILE with at least one cluster, or add --demo`);
  const known = new Set(kubeconfig.clusters.map((c) => c.name));
  const { clusterLabels } = flags;
  const unknown = Object.keys(clusterLabels).filter((name) => !known.has(name));
  if (unknown.length > 0)
    fail(`--cluster-labels names ${unknown.join(', ')}, which the kubeconfig does not have; clusters: ${[...known].join(', ')}`);

  const local = await startLocalMode(
    {
      dataDir: flags.dataDir,
      apiAddr: flags.apiAddr,
      agentAddr: flags.agentAddr,
      clusterName: flags.clusterName,
      clusters: kubeconfig.clusters,
      clusterLabels,
      serverVersion: version,
    },
    {
      clock: systemClock,
      random: systemRandom,
      log: (message) => process.stderr.write(`kubeport: ${message}\n`),
      progress: (message) => process.stderr.write(`kubeport: ${message}...\n`),
    },
  ).catch(async (error: Error) => {
    await demo?.close();
    return fail(error.message);
  });

  const dataDirShown = relative(process.cwd(), flags.dataDir) || '.';
  const tctl = cliCommand('tctl');
  // npx runs tctl from here, where the default finds the data directory; an installed tctl may run anywhere.
  const dataDirFlag = tctl.startsWith('npx ')
    ? dataDirShown === '.kubeport'
      ? ''
      : ` --data-dir=${dataDirShown}`
    : ` --data-dir=${flags.dataDir}`;
  const lines = [
    '',
    `Kubeport ${version} is running in local mode (cluster ${flags.clusterName}).`,
    `  auth API      ${local.apiUrl}`,
    `  agent         https://${local.agentAddress}  (kubectl connects here)`,
    `  data          ${dataDirShown}  (users, roles, CA keys, audit)`,
    `  clusters      ${local.registered.map(describeCluster).join(', ')}`,
    '',
    ...nextSteps(local, { tctl, dataDirFlag, proxy: `${flags.apiAddr.host}:${flags.apiAddr.port}` }),
    ...(demo ? demoGitHubLines(demo.github, { tctl, dataDirFlag, proxy: `${flags.apiAddr.host}:${flags.apiAddr.port}` }) : []),
    '',
  ];
  process.stdout.write(lines.join('\n'));

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) {
      // A second signal: end the open streams now (their users are told why), then stop.
      process.stderr.write(`kubeport: ${signal} again, ending open streams now\n`);
      void local.drain(0, () => undefined);
      return;
    }
    stopping = true;
    process.stderr.write(`kubeport: ${signal}, stopping (press Ctrl-C again to end open streams at once)...\n`);
    local
      .drain(flags.drainTimeout, (message) => process.stderr.write(`kubeport: ${message}\n`))
      .then(() => local.close())
      .then(() => demo?.close())
      .then(
        () => process.exit(0),
        () => process.exit(1),
      );
  };
  process.on('SIGINT', () => stop('interrupted'));
  process.on('SIGTERM', () => stop('terminated'));
}

await main();

function describeCluster(cluster: { name: string; labels: Record<string, string> }): string {
  const labels = Object.entries(cluster.labels).map(([key, value]) => `${key}=${value}`);
  return labels.length > 0 ? `${cluster.name} [${labels.join(',')}]` : cluster.name;
}

/** The banner's next step: add a first user, or log in as a local user (--user) or with GitHub (--auth=github). */
function nextSteps(
  local: { users: number; githubConnectors: number },
  cli: { tctl: string; dataDirFlag: string; proxy: string },
): string[] {
  if (local.users === 0 && local.githubConnectors === 0) {
    return [
      'Next, in another terminal:',
      `  ${cli.tctl} users add alice --roles=access --kubernetes-groups=system:masters${cli.dataDirFlag}`,
      'then run the tsh login command it prints. Press Ctrl-C to stop.',
    ];
  }
  const tsh = `${cliCommand('tsh')} login --proxy=${cli.proxy}`;
  const localLines =
    local.users === 0
      ? []
      : [
          `Next, in another terminal, log in as one of the ${local.users} local user${local.users === 1 ? '' : 's'}:`,
          `  ${tsh} --user=NAME`,
        ];
  const githubLines =
    local.githubConnectors === 0
      ? []
      : [`${local.users === 0 ? 'Next, in another terminal, log' : 'or log'} in with GitHub:`, `  ${tsh} --auth=github`];
  return [...localLines, ...githubLines, `(${cli.tctl} users ls${cli.dataDirFlag} lists the users.) Press Ctrl-C to stop.`];
}

/** How to try GitHub login against the demo GitHub, in the start-up output's style. */
function demoGitHubLines(github: DemoCluster['github'], cli: { tctl: string; dataDirFlag: string; proxy: string }): string[] {
  const users = DEMO_GITHUB_USERS.map(
    (user) => `${user.login} (${user.teams.map((t) => `${t.organization}/${t.slug}`).join(', ') || 'no team'})`,
  );
  // Relative when the data directory is below here (the default), else the full path.
  const shown = relative(process.cwd(), github.connectorFile);
  const connectorFile = shown.startsWith('..') ? github.connectorFile : shown;
  return [
    '',
    'Try GitHub login without a GitHub account, with the demo GitHub:',
    `  demo GitHub   ${github.url}  (users ${users.join(', ')})`,
    `  password      ${github.password}  (its sign-in pages ask for it; kept in the data directory)`,
    `  connector     ${connectorFile}  (acme/developers -> role access, Kubernetes group devs)`,
    'Then, in another terminal:',
    // --force: the same command creates the connector the first time and, after a restart with
    // another demo GitHub address, replaces the stored one that points at the old address.
    `  ${cli.tctl} create --force -f ${connectorFile}${cli.dataDirFlag}`,
    'and sign in as dana, in a browser (add --browser=none to only print its URL) or with a code entered on another device:',
    `  ${cliCommand('tsh')} login --proxy=${cli.proxy} --auth=github`,
    `  ${cliCommand('tsh')} login --proxy=${cli.proxy} --auth=github --headless`,
  ];
}
