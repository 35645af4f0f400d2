// The logged-in session tsh works with: which profile, and whether its certificate still holds.
import { X509Certificate } from 'node:crypto';
import { humanDuration, isExpired } from '../core/human-duration.js';
import { cliCommand } from './command-hint.js';
import type { Profile, ProfileKeys, ProfileStore } from './profile-store.js';
import { UsageError } from './usage-error.js';

export { UsageError };

/** The command that renews this login: a GitHub login is made again as it was (the profile remembers the connector). */
export function loginHint(profile: Profile): string {
  const sso = profile.auth !== undefined && profile.auth !== 'local';
  return `${cliCommand('tsh')} login --proxy=${profile.proxy}${sso ? '' : ` --user=${profile.user}`}`;
}

export function currentProfile(store: ProfileStore, proxyFlag?: string): { profile: Profile; keys: ProfileKeys } {
  const proxy = proxyFlag ?? store.current();
  if (!proxy) throw new UsageError(`not logged in; run: ${cliCommand('tsh')} login --proxy=HOST:PORT --user=NAME`);
  const loaded = store.load(proxy);
  if (!loaded) throw new UsageError(`not logged in to ${proxy}; run: ${cliCommand('tsh')} login --proxy=${proxy} --user=NAME`);
  return loaded;
}

export function requireValid(profile: Profile, keys: ProfileKeys, now = new Date()): X509Certificate {
  const cert = new X509Certificate(keys.certPem);
  const notAfter = new Date(cert.validTo);
  if (isExpired(notAfter, now)) throw expiredError(profile, notAfter, now);
  return cert;
}

/** One line: whose session, how long ago it ended, the command that renews it. */
export function expiredError(profile: Profile, notAfter: Date, now: Date): UsageError {
  return new UsageError(
    `your Kubeport session for ${profile.user} at ${profile.proxy} expired ${humanDuration(now.getTime() - notAfter.getTime())} ago; run: ${loginHint(profile)}`,
  );
}
