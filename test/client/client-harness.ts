// What the CLI tests share: the real auth and admin handlers over HTTP (test/support/api-harness),
// an admin identity to create users with, and the in-process dependencies of tsh and tctl.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { adminClient } from '../../lib/client/admin-client.js';
import { ApiClient } from '../../lib/client/api-client.js';
import { ADMIN_IDENTITY_FILE } from '../../lib/client/local-data-dir.js';
import type { TctlDeps, TshDeps, Writer } from '../../lib/client/commands/deps.js';
import { type LoginWaits, realSleep } from '../../lib/client/login-wait.js';
import type { BrowserOpener } from '../../lib/client/open-browser.js';
import { ProfileStore } from '../../lib/client/profile-store.js';
import { createPrompt } from '../../lib/client/prompt.js';
import { type RawTctlFlags, tctlConfig } from '../../lib/client/tctl-config.js';
import { DEFAULT_CA_REFRESH_MS } from '../../lib/client/tsh-config.js';
import { apiAudience } from '../../lib/core/signed-request.js';
import { type ApiHarness, type ApiHarnessOptions, startApiHarness } from '../support/api-harness.js';

export interface ClientHarness extends ApiHarness {
  /** A data directory holding the admin identity, as npm start writes it. */
  dataDir: string;
  /** Creates a user through the admin API; returns the invite. */
  addUser(name: string, options: { roles: string[]; kubernetesGroups?: string[] }): Promise<string>;
}

export async function startClientHarness(options: ApiHarnessOptions = {}): Promise<ClientHarness> {
  const api = await startApiHarness(new Date(), options);
  const admin = await api.identity({ username: 'kubeport-admin', roles: ['editor'] }, { ttlMs: 12 * 3_600_000 });
  const dataDir = mkdtempSync(join(tmpdir(), 'kubeport-data-'));
  writeFileSync(
    join(dataDir, ADMIN_IDENTITY_FILE),
    JSON.stringify({ proxy: api.proxy, user: 'kubeport-admin', cert: admin.certPem, key: admin.keyPem }),
    { mode: 0o600 },
  );
  const client = new ApiClient(api.proxy, apiAudience(api.deps.clusterName));
  return {
    ...api,
    dataDir,
    addUser: async (name, options) => {
      const answer = await client.call<{ invite: string }>(
        'POST',
        '/webapi/admin/users',
        { name, roles: options.roles, kubernetes_groups: options.kubernetesGroups ?? [] },
        admin,
      );
      return answer.invite;
    },
  };
}

/**
 * A home whose tsh profile is logged in to the harness as `user` (a stored user), without the login
 * dance; `proxy` names the profile as if that proxy had issued it.
 */
export async function loggedInHome(
  harness: ApiHarness,
  user: string,
  roles: string[] = ['access'],
  options: { proxy?: string } = {},
): Promise<string> {
  const home = mkdtempSync(join(tmpdir(), `kubeport-${user}-`));
  const identity = await harness.identity({ username: user, roles, connector: 'local' });
  new ProfileStore(join(home, '.tsh')).save(
    {
      proxy: options.proxy ?? harness.proxy,
      user,
      cluster: harness.deps.clusterName,
      agent: harness.deps.agentAddress,
      roles,
      traits: {},
      expires: new Date(harness.clock.now().getTime() + 3_600_000).toISOString(),
    },
    { certPem: identity.certPem, keyPem: identity.keyPem, userCaPem: harness.userCa.certPem, hostCaPem: harness.hostCa.certPem },
  );
  return home;
}

/** A writer that keeps what is written; `onWrite` sees everything so far after each write. */
export function capture(onWrite?: (soFar: string) => void): Writer & { text: () => string } {
  let text = '';
  return {
    write: (chunk: string) => {
      text += chunk;
      onWrite?.(text);
      return true;
    },
    text: () => text,
  };
}

export interface TshRun {
  deps: TshDeps;
  stdout: ReturnType<typeof capture>;
  stderr: ReturnType<typeof capture>;
  /** Standard input: write answers, one per line. */
  stdin: PassThrough;
  /** The URLs tsh asked to open in a browser (when no `openBrowser` was given). */
  opened: string[];
  /** Presses Ctrl-C: calls the handlers tsh is listening with. */
  interrupt(): void;
}

/**
 * tsh's dependencies for one run in this process: the real prompt over a pipe, the real profile
 * store and kubeconfig under `home`, the real API client on the harness's clock.
 */
export function tshRun(
  harness: ApiHarness,
  home: string,
  options: {
    answer?: (stderrSoFar: string, stdin: PassThrough) => void;
    homeOverride?: boolean;
    /** How old the profile's CAs may be before tsh reads them again (default: tsh's own). */
    caRefreshMs?: number;
    openBrowser?: BrowserOpener;
    sleep?: LoginWaits['sleep'];
    /** Standard error is a terminal (tsh redraws its countdown in place). */
    tty?: boolean;
  } = {},
): TshRun {
  const stdin = new PassThrough();
  const stdout = capture();
  const stderr = Object.assign(
    capture((soFar) => options.answer?.(soFar, stdin)),
    { isTTY: options.tty === true },
  );
  const opened: string[] = [];
  const interruptHandlers = new Set<() => void>();
  const config = {
    home: join(home, '.tsh'),
    kubeconfig: join(home, '.kube', 'config'),
    ...(options.homeOverride ? { homeOverride: join(home, '.tsh') } : {}),
    caRefreshMs: options.caRefreshMs ?? DEFAULT_CA_REFRESH_MS,
  };
  const deps: TshDeps = {
    config,
    store: new ProfileStore(config.home),
    prompt: createPrompt({ input: stdin, output: stderr }),
    out: { stdout, stderr },
    clock: harness.clock,
    api: (proxy, audience) => new ApiClient(proxy, audience, harness.clock),
    execPlugin: { command: '/usr/bin/node', args: ['/opt/kubeport/cli/tsh.mjs'] },
    openBrowser: options.openBrowser ?? ((url) => opened.push(url)),
    waits: {
      sleep: options.sleep ?? realSleep,
      onInterrupt: (handler) => {
        interruptHandlers.add(handler);
        return () => interruptHandlers.delete(handler);
      },
    },
  };
  return { deps, stdout, stderr, stdin, opened, interrupt: () => interruptHandlers.forEach((handler) => handler()) };
}

/** tctl's dependencies for one run in this process, signing with the harness's admin identity. */
export function tctlRun(
  harness: ClientHarness,
  flags: RawTctlFlags = { dataDir: harness.dataDir },
): { deps: TctlDeps; stdout: ReturnType<typeof capture>; stderr: ReturnType<typeof capture> } {
  const stdout = capture();
  const stderr = capture();
  const common = {
    out: { stdout, stderr },
    clock: harness.clock,
    api: (proxy: string, audience?: string) => new ApiClient(proxy, audience, harness.clock),
  };
  const config = tctlConfig(flags);
  return { deps: { ...common, admin: () => adminClient(config, common) }, stdout, stderr };
}
