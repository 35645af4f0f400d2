// tctl after `tsh login` (as Teleport's tctl does): with no admin identity, it signs as the user
// of tsh's current profile, and only toward that profile's own proxy. A certificate is good for
// the proxy that issued it; sent anywhere else, its signature would let that host replay calls.
import { X509Certificate } from 'node:crypto';
import type { SigningIdentity } from './api-client.js';
import { ProfileStore } from './profile-store.js';
import { UsageError } from './usage-error.js';

export interface TshLoginIdentity {
  identity: SigningIdentity;
  proxy: string;
  user: string;
}

/** The ways tctl finds an identity, in the order it tries them; every "no identity" message lists them. */
export const IDENTITY_PRECEDENCE = (proxy = '<API host>') =>
  `tctl signs with --identity FILE, else --aws-iam --proxy=${proxy} (break-glass, your AWS credentials), ` +
  `else the admin identity npm start writes into .kubeport (run tctl where npm start runs, or pass --data-dir), ` +
  `else your tsh login (run tsh login --proxy=${proxy} first)`;

/** The current tsh login in `home`, or undefined when there is none; refused when it cannot be used for `proxyFlag`. */
export function tshLoginIdentity(home: string, proxyFlag: string | undefined, now: Date): TshLoginIdentity | undefined {
  const store = new ProfileStore(home);
  const current = store.current();
  const loaded = current === undefined ? undefined : store.load(current);
  if (!loaded) return undefined;
  const { profile, keys } = loaded;
  if (proxyFlag !== undefined && proxyFlag !== profile.proxy) {
    throw new UsageError(
      `tsh is logged in to ${profile.proxy}, not ${proxyFlag}, and tctl sends a login's signature only to its own proxy; run tsh login --proxy=${proxyFlag} first`,
    );
  }
  let validTo: number;
  try {
    validTo = new Date(new X509Certificate(keys.certPem).validTo).getTime();
  } catch {
    throw new UsageError(
      `the tsh profile of ${profile.proxy} in ${home} holds no readable certificate; run tsh login --proxy=${profile.proxy}`,
    );
  }
  if (now.getTime() > validTo) {
    throw new UsageError(`your tsh login to ${profile.proxy} as ${profile.user} has expired; run tsh login --proxy=${profile.proxy}`);
  }
  return { identity: { certPem: keys.certPem, keyPem: keys.keyPem }, proxy: profile.proxy, user: profile.user };
}
