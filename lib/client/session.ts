// The logged-in session tsh works with: which profile, and whether its certificate still holds.
import { X509Certificate } from 'node:crypto';
import type { Profile, ProfileKeys, ProfileStore } from './profile-store.js';
import { UsageError } from './usage-error.js';

export { UsageError };

export function loginHint(profile: Profile): string {
  return `tsh login --proxy=${profile.proxy} --user=${profile.user}`;
}

export function currentProfile(store: ProfileStore, proxyFlag?: string): { profile: Profile; keys: ProfileKeys } {
  const proxy = proxyFlag ?? store.current();
  if (!proxy) throw new UsageError('not logged in; run: tsh login --proxy=HOST:PORT --user=NAME');
  const loaded = store.load(proxy);
  if (!loaded) throw new UsageError(`not logged in to ${proxy}; run: tsh login --proxy=${proxy} --user=NAME`);
  return loaded;
}

export function requireValid(profile: Profile, keys: ProfileKeys, now = new Date()): X509Certificate {
  const cert = new X509Certificate(keys.certPem);
  const notAfter = new Date(cert.validTo);
  if (now >= notAfter) {
    throw new UsageError(
      `your Kubeport session for ${profile.user} at ${profile.proxy} expired at ${notAfter.toISOString()}; run: ${loginHint(profile)}`,
    );
  }
  return cert;
}
