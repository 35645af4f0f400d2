// Which way tsh login signs in, as Teleport's tsh decides it: --auth when given (local, github for
// the default GitHub connector, or a connector's name), else local for --invite and --user, else
// the connector the last login to this proxy used, else the proxy's default from ping.
import type { AuthConnector, Ping } from './login.js';
import { UsageError } from './usage-error.js';

export type AuthChoice = { kind: 'local' } | { kind: 'github'; connector: { name: string; display: string } };

export interface AuthFlags {
  auth?: string;
  /** --user as typed (not the one remembered from the last login). */
  user?: string;
  invite?: string;
  headless?: boolean;
}

const LOCAL: AuthChoice = { kind: 'local' };

/** The connectors ping announced; a proxy from before connectors were listed offers local only. */
export function announcedConnectors(ping: Ping): AuthConnector[] {
  const listed = ping.auth?.connectors;
  if (listed?.length) return listed;
  const github = ping.auth?.github;
  return [{ type: 'local', name: 'local' }, ...(github ? [{ type: 'github' as const, ...github }] : [])];
}

const github = (connector: AuthConnector): AuthChoice => ({
  kind: 'github',
  connector: { name: connector.name, display: connector.display || 'GitHub' },
});

function describe(connectors: AuthConnector[]): string {
  return connectors.map((c) => (c.display && c.display !== c.name ? `${c.name} (${c.display})` : c.name)).join(', ');
}

function defaultGitHub(ping: Ping, connectors: AuthConnector[]): AuthConnector | undefined {
  const name = ping.auth?.github?.name;
  return connectors.find((c) => c.type === 'github' && c.name === name) ?? connectors.find((c) => c.type === 'github');
}

function byFlag(auth: string, ping: Ping, connectors: AuthConnector[]): AuthChoice {
  if (auth === 'local') return LOCAL;
  const named = connectors.find((c) => c.name === auth);
  if (named) return named.type === 'github' ? github(named) : LOCAL;
  if (auth === 'github') {
    const found = defaultGitHub(ping, connectors);
    if (found) return github(found);
    throw new UsageError(`--auth=github: this proxy has no GitHub connector; it offers: ${describe(connectors)}`);
  }
  throw new UsageError(`--auth=${auth}: this proxy has no such connector; choose one of: ${describe(connectors)}`);
}

export function chooseAuth(flags: AuthFlags, ping: Ping, remembered?: string): AuthChoice {
  const connectors = announcedConnectors(ping);
  let choice: AuthChoice;
  if (flags.auth !== undefined) choice = byFlag(flags.auth, ping, connectors);
  else if (flags.invite !== undefined || (flags.user !== undefined && !flags.headless)) choice = LOCAL;
  else {
    const previous = remembered === undefined ? undefined : connectors.find((c) => c.name === remembered);
    const fallback = ping.auth?.type === 'github' ? defaultGitHub(ping, connectors) : undefined;
    const chosen = previous ?? fallback;
    choice = chosen?.type === 'github' ? github(chosen) : LOCAL;
  }
  check(choice, flags, ping, connectors);
  return choice;
}

/** Flags that only make sense with the other kind of login are refused, not ignored. */
function check(choice: AuthChoice, flags: AuthFlags, ping: Ping, connectors: AuthConnector[]): void {
  if (choice.kind === 'github') {
    if (flags.invite !== undefined)
      throw new UsageError('--invite is for local users; drop --auth, or drop --invite to log in with GitHub');
    if (flags.user !== undefined)
      throw new UsageError(
        '--user names a local user; GitHub login names you by your GitHub account, so drop --user (or use --auth=local)',
      );
    if (flags.headless && ping.auth?.allow_headless === false)
      throw new UsageError('this proxy does not allow headless login; drop --headless to log in with a browser');
    return;
  }
  if (flags.headless) {
    const offers = connectors.some((c) => c.type === 'github')
      ? 'add --auth=github'
      : `this proxy offers only ${describe(connectors)}, so log in without --headless`;
    throw new UsageError(`--headless works with GitHub login only; ${offers}`);
  }
}
