// tsh follows CA rotations: every few minutes (when it runs at all) it reads the trusted CAs from
// ping, stores them in the profile and points the kubeconfig entries it wrote at the host CAs, so
// kubectl trusts the agent's certificate from the new host CA before the agent presents one.
import type { Clock } from '../core/ports.js';
import type { ApiFactory } from './commands/deps.js';
import { setProfileCa, withKubeconfig } from './kubeconfig-editor.js';
import { type Profile, type ProfileKeys, type ProfileStore, casStale } from './profile-store.js';

export { casStale };
import type { TshConfig } from './tsh-config.js';

export interface CaRefreshDeps {
  api: ApiFactory;
  store: ProfileStore;
  clock: Clock;
  config: Pick<TshConfig, 'kubeconfig' | 'caRefreshMs'>;
}

/** Reads the CAs again if they are stale; returns the keys with the CAs as they are now. */
export async function refreshCasIfStale(deps: CaRefreshDeps, profile: Profile, keys: ProfileKeys): Promise<ProfileKeys> {
  const now = deps.clock.now();
  if (!casStale(profile, now, deps.config.caRefreshMs)) return keys;
  const ping = await deps.api(profile.proxy).call<{ ca?: { user?: string[]; host?: string[] } }>('GET', '/webapi/ping');
  const user = ping.ca?.user ?? [];
  const host = ping.ca?.host ?? [];
  // A proxy that answers without CAs changes nothing: trusting none would break every command.
  if (user.length === 0 || host.length === 0) return keys;
  const cas = { userCaPem: user.join('\n'), hostCaPem: host.join('\n') };
  deps.store.saveCas({ ...profile, cas_fetched: now.toISOString() }, cas);
  if (cas.hostCaPem !== keys.hostCaPem) {
    await withKubeconfig(deps.config.kubeconfig, (config) => setProfileCa(config, profile.proxy, cas.hostCaPem));
  }
  return { ...keys, ...cas };
}

/** refreshCasIfStale for commands that do something else: a proxy that does not answer leaves the CAs as they were. */
export async function followCaRotation(deps: CaRefreshDeps, profile: Profile, keys: ProfileKeys): Promise<ProfileKeys> {
  try {
    return await refreshCasIfStale(deps, profile, keys);
  } catch {
    return keys;
  }
}
