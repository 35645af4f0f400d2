// What a tsh or tctl command gets from outside: where it writes, whom it calls, what time it is.
// bin/tsh.ts and bin/tctl.ts pass the process's own; tests pass the real API on loopback, a clock
// of their choosing and writers they read back.
import type { Clock } from '../../core/ports.js';
import type { AdminClient } from '../admin-client.js';
import type { BrowserOpener } from '../open-browser.js';
import type { LoginWaits } from '../login-wait.js';
import type { ApiClient } from '../api-client.js';
import type { ProfileStore } from '../profile-store.js';
import type { Prompt } from '../prompt.js';
import type { TshConfig } from '../tsh-config.js';

export interface Writer {
  write(text: string): unknown;
  /** True for a terminal: tsh then redraws a countdown in place instead of printing lines. */
  readonly isTTY?: boolean;
}

export interface Output {
  stdout: Writer;
  stderr: Writer;
}

/** An API client for one proxy; with an audience, it can sign calls. */
export type ApiFactory = (proxy: string, audience?: string) => ApiClient;

export interface CommandDeps {
  out: Output;
  clock: Clock;
  api: ApiFactory;
}

export interface TshDeps extends CommandDeps {
  config: TshConfig;
  store: ProfileStore;
  prompt: Prompt;
  /** How kubectl starts `tsh kube credentials`: a program and the arguments before the command's own. */
  execPlugin: { command: string; args: string[] };
  /** Opens GitHub's sign-in page for tsh login (best effort; the URL is printed as well). */
  openBrowser: BrowserOpener;
  /** How tsh login waits for a person: sleeping, and Ctrl-C. */
  waits: LoginWaits;
}

export interface TctlDeps extends CommandDeps {
  /** The signed admin client; connects (ping) on the first call, so a command can check its input first. */
  admin(): Promise<AdminClient>;
}
