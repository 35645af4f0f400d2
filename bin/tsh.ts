// tsh: log in to Kubeport and reach Kubernetes clusters with kubectl. Flags to commands, nothing
// more: each command lives in lib/client/commands/ and is loaded only when it runs. (kubectl's
// exec plugin, `tsh kube credentials`, starts from cli/tsh.mjs without this file.)
import { Command } from 'commander';
import { createRequire } from 'node:module';
import { ApiClient } from '../lib/client/api-client.js';
import { execPluginCommand } from '../lib/client/command-hint.js';
import type { TshDeps } from '../lib/client/commands/deps.js';
import { processInterrupts, realSleep } from '../lib/client/login-wait.js';
import { systemBrowserOpener } from '../lib/client/open-browser.js';
import { ProfileStore } from '../lib/client/profile-store.js';
import { createPrompt } from '../lib/client/prompt.js';
import { endQuietlyWhenStdoutCloses, runCommand } from '../lib/client/run-command.js';
import { DEFAULT_FORMAT, type RawTshFlags, tshConfig, tshFlags } from '../lib/client/tsh-config.js';

// cli/tsh.mjs runs this file through tsx's require hook, which starts much faster than the ESM
// loader; each command's module is required when the command runs, so a command loads only
// what it uses.
interface Commands {
  'tsh-login': typeof import('../lib/client/commands/tsh-login.js');
  'tsh-status': typeof import('../lib/client/commands/tsh-status.js');
  'tsh-version': typeof import('../lib/client/commands/tsh-version.js');
  logout: typeof import('../lib/client/commands/logout.js');
  'kube-ls': typeof import('../lib/client/commands/kube-ls.js');
  'kube-login': typeof import('../lib/client/commands/kube-login.js');
  'recordings-ls': typeof import('../lib/client/commands/recordings-ls.js');
  play: typeof import('../lib/client/commands/play.js');
}
const command = <K extends keyof Commands>(name: K): Commands[K] =>
  createRequire(import.meta.url)(`../lib/client/commands/${name}.js`) as Commands[K];
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
    // `tsh` when the tsh on PATH is this one (it survives moving the clone), else node and this launcher.
    execPlugin: execPluginCommand(process.env),
    openBrowser: systemBrowserOpener(process.env),
    waits: { sleep: realSleep, onInterrupt: processInterrupts },
  };
}

const program = new Command('tsh').description('Kubeport client: log in, then use kubectl');
program
  .command('login')
  .description('log in to a Kubeport proxy and set up kubectl (again: no flags reuses the last proxy and user)')
  .option('--proxy <host:port>', "address of the Kubeport API (default: the current profile's)")
  .option('--user <name>', "local user name (default: the current profile's)")
  .option('--invite <token>', 'one-time invite from tctl users add (first login)')
  .option('--auth <connector>', "local, github, or a connector's name (default: the last login's, else the proxy's)")
  .option('--browser <none>', "none: print GitHub's sign-in URL instead of opening a browser")
  .option('--headless', 'sign in with GitHub on another device, with a code (no browser here)')
  .option('--ttl <duration>', 'how long the certificate should last, e.g. 8h (capped by your roles)')
  .option('--kube-cluster <name>', 'Kubernetes cluster to select')
  .action(async (raw: RawTshFlags) => {
    await command('tsh-login').run(tshFlags(raw), deps());
  });
program
  .command('status')
  .description('show the current login')
  .option('--proxy <host:port>')
  .action(async (raw: RawTshFlags) => command('tsh-status').run(tshFlags(raw), deps()));
program
  .command('logout')
  .description("remove this login's keys and kubeconfig entries")
  .option('--proxy <host:port>')
  .action(async (raw: RawTshFlags) => command('logout').run(tshFlags(raw), deps()));
program
  .command('version')
  .description('print the version of tsh and Node.js')
  .action(() => command('tsh-version').run({ out: process }));
const kube = program.command('kube').description('Kubernetes clusters');
kube
  .command('ls')
  .description('list the clusters you may reach')
  .option('--format <format>', `text, json or yaml (default: ${DEFAULT_FORMAT})`)
  .option('--proxy <host:port>')
  .action(async (raw: RawTshFlags) => {
    // kube ls also takes yaml (lib/client/structured-output.ts checks it), so its format skips tshFlags.
    const flags = tshFlags(raw.proxy ? { proxy: raw.proxy } : {});
    await command('kube-ls').run({ ...(flags.proxy ? { proxy: flags.proxy } : {}), ...(raw.format ? { format: raw.format } : {}) }, deps());
  });
kube
  .command('login <cluster>')
  .description('point kubectl at a cluster')
  .option('--proxy <host:port>')
  .action(async (cluster: string, raw: RawTshFlags) => command('kube-login').run({ ...tshFlags(raw), cluster }, deps()));
const recordings = program.command('recordings').description('recorded sessions (kubectl exec and attach)');
recordings
  .command('ls')
  .description("list recorded sessions, newest first: yours, or everyone's with a role rule on session (list)")
  .option('--since <when>', 'how far back: a duration (30m, 1h, 7d) or a time (2026-12-02T10:00:00Z) (default: 24h)')
  .option('--until <when>', 'up to when: a duration back from now or a time (default: now)')
  .option('--user <name>', "only this user's sessions (others' need a role rule on session)")
  .option('--kube-cluster <name>', 'only sessions on this Kubernetes cluster')
  .option('--limit <n>', 'at most this many sessions (default: 50)')
  .option('--format <format>', `text or json (default: ${DEFAULT_FORMAT})`)
  .option('--proxy <host:port>')
  .action(async (raw: RawTshFlags & { since?: string; until?: string; limit?: string }) => {
    const flags = tshFlags({ ...(raw.proxy ? { proxy: raw.proxy } : {}), ...(raw.format ? { format: raw.format } : {}) });
    await command('recordings-ls').run(
      {
        format: flags.format,
        ...(flags.proxy ? { proxy: flags.proxy } : {}),
        ...(raw.since ? { since: raw.since } : {}),
        ...(raw.until ? { until: raw.until } : {}),
        ...(raw.user ? { user: raw.user } : {}),
        ...(raw.kubeCluster ? { cluster: raw.kubeCluster } : {}),
        ...(raw.limit ? { limit: raw.limit } : {}),
      },
      deps(),
    );
  });
program
  .command('play <session-id>')
  .description('replay a recorded session (IDs from tsh recordings ls)')
  .option(
    '--format <format>',
    'pty: replay on this terminal in real time; cast: the asciicast v2 file (plays in asciinema); json: the events; text: everything the session printed (default: pty)',
  )
  .option('--speed <n>', 'pty only: play this many times faster (0.5 is slower); pauses over 2s are cut to 2s first (default: 1)')
  .option('--proxy <host:port>')
  .action(async (sessionId: string, raw: { format?: string; speed?: string; proxy?: string }) => {
    const flags = tshFlags(raw.proxy ? { proxy: raw.proxy } : {});
    await command('play').run(
      {
        sessionId,
        ...(flags.proxy ? { proxy: flags.proxy } : {}),
        ...(raw.format ? { format: raw.format } : {}),
        ...(raw.speed ? { speed: raw.speed } : {}),
      },
      deps(),
    );
  });

// A failure ends at once; a success lets standard output drain and the process end by itself.
endQuietlyWhenStdoutCloses();
void runCommand(program, 'tsh', process.argv.slice(2), process.stderr).then((code) => {
  if (code !== 0) process.exit(code);
});
