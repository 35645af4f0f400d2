// tsh status: the current login, and the kubeconfig contexts it wrote (or how to log in again).
import { profileEntryNames, readKubeconfigFile } from '../kubeconfig-editor.js';
import { currentProfile, loginHint } from '../session.js';
import { statusTable } from '../status-table.js';
import { X509Certificate } from 'node:crypto';
import type { TshDeps } from './deps.js';

export interface TshStatusOptions {
  proxy?: string;
}

export function run(options: TshStatusOptions, deps: TshDeps): void {
  const { profile, keys } = currentProfile(deps.store, options.proxy);
  const cert = new X509Certificate(keys.certPem);
  const now = deps.clock.now();
  deps.out.stdout.write(statusTable(profile, cert, now));
  const entries = profileEntryNames(readKubeconfigFile(deps.config.kubeconfig), profile.proxy);
  if (now.getTime() >= new Date(cert.validTo).getTime()) deps.out.stdout.write(`  Session expired; run: ${loginHint(profile)}\n`);
  else if (entries.length) deps.out.stdout.write(`  ${'Kube contexts:'.padEnd(20)}${entries.join(', ')}\n`);
}
