// tsh: log in to Kubeport and reach Kubernetes clusters with kubectl. Flags to commands, nothing
// more: each command lives in lib/client/commands/ and is loaded only when it runs. (kubectl's
// exec plugin, `tsh kube credentials`, starts from cli/tsh.mjs without this file.)
import { Command } from 'commander';
import { fileURLToPath } from 'node:url';
import { ApiClient } from '../lib/client/api-client.js';
import type { TshDeps } from '../lib/client/commands/deps.js';
import { ProfileStore } from '../lib/client/profile-store.js';
import { createPrompt } from '../lib/client/prompt.js';
import { runCommand } from '../lib/client/run-command.js';
import { DEFAULT_FORMAT, type RawTshFlags, tshConfig, tshFlags } from '../lib/client/tsh-config.js';

const clock = { now: () => new Date() };

// Read when a command runs, so a bad environment is reported like any other user error.
function deps(): TshDeps {
  const config = tshConfig(process.env);
  return {
    config,
    store: new ProfileStore(config.home),
    prompt: createPrompt(),
    out: process,
    clock,
    api: (proxy, audience) => new ApiClient(proxy, audience, clock),
    execPlugin: { command: process.execPath, args: [fileURLToPath(new URL('../cli/tsh.mjs', import.meta.url))] },
  };
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
  .action(async (raw: RawTshFlags) => {
    const { proxy, ...flags } = tshFlags(raw);
    await (await import('../lib/client/commands/tsh-login.js')).run({ ...flags, proxy: proxy! }, deps());
  });
program
  .command('status')
  .description('show the current login')
  .option('--proxy <host:port>')
  .action(async (raw: RawTshFlags) => (await import('../lib/client/commands/tsh-status.js')).run(tshFlags(raw), deps()));
program
  .command('logout')
  .description('remove this login\'s keys and kubeconfig entries')
  .option('--proxy <host:port>')
  .action(async (raw: RawTshFlags) => (await import('../lib/client/commands/logout.js')).run(tshFlags(raw), deps()));
const kube = program.command('kube').description('Kubernetes clusters');
kube
  .command('ls')
  .description('list the clusters you may reach')
  .option('--format <format>', `text or json (default: ${DEFAULT_FORMAT})`)
  .option('--proxy <host:port>')
  .action(async (raw: RawTshFlags) => (await import('../lib/client/commands/kube-ls.js')).run(tshFlags(raw), deps()));
kube
  .command('login <cluster>')
  .description('point kubectl at a cluster')
  .option('--proxy <host:port>')
  .action(async (cluster: string, raw: RawTshFlags) => (await import('../lib/client/commands/kube-login.js')).run({ ...tshFlags(raw), cluster }, deps()));

const code = await runCommand(program, 'tsh', process.argv.slice(2), process.stderr);
// A failure ends at once; a success lets standard output drain and the process end by itself.
if (code !== 0) process.exit(code);
