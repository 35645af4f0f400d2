// tsh status: the current login, and the kubeconfig contexts it wrote (or how to log in again).
import { followCaRotation } from '../ca-refresh.js';
import { profileEntryNames, readKubeconfigFile } from '../kubeconfig-editor.js';
import { isExpired } from '../../core/human-duration.js';
import { currentProfile, expiredError } from '../session.js';
import { statusTable } from '../status-table.js';
import { X509Certificate } from 'node:crypto';
import type { TshDeps } from './deps.js';

export interface TshStatusOptions {
  proxy?: string;
}

export async function run(options: TshStatusOptions, deps: TshDeps): Promise<void> {
  const { profile, keys } = currentProfile(deps.store, options.proxy);
  const cert = new X509Certificate(keys.certPem);
  const now = deps.clock.now();
  // A live login follows CA rotations; an expired one is told to log in again, which fetches them.
  if (!isExpired(new Date(cert.validTo), now)) await followCaRotation(deps, profile, keys);
  deps.out.stdout.write(statusTable(profile, cert, now));
  const entries = profileEntryNames(readKubeconfigFile(deps.config.kubeconfig), profile.proxy);
  // Scripts check the exit code: an expired session is a failure, told on standard error.
  if (isExpired(new Date(cert.validTo), now)) throw expiredError(profile, new Date(cert.validTo), now);
  if (entries.length) deps.out.stdout.write(`  ${'Kube contexts:'.padEnd(20)}${entries.join(', ')}\n`);
}
