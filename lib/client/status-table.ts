// The profile table tsh login and tsh status print, laid out as Teleport's.
import type { X509Certificate } from 'node:crypto';
import type { Profile } from './profile-store.js';

export function statusTable(profile: Profile, cert: X509Certificate, now: Date): string {
  const expires = new Date(cert.validTo);
  const left = Math.max(0, expires.getTime() - now.getTime());
  const rows = [
    ['Profile URL', profile.proxy],
    ['Logged in as', profile.user],
    ['Cluster', profile.cluster],
    ['Roles', profile.roles.join(', ')],
    ['Kubernetes', 'enabled'],
    ['Kubernetes users', (profile.traits.kubernetes_users ?? []).join(', ')],
    ['Kubernetes groups', (profile.traits.kubernetes_groups ?? []).join(', ')],
    ['Valid until', `${expires.toISOString()} [valid for ${Math.floor(left / 3_600_000)}h${Math.floor((left % 3_600_000) / 60_000)}m0s]`],
  ];
  return `> ${rows.map(([k, v]) => `${`${k}:`.padEnd(20)}${v}`).join('\n  ')}\n`;
}
