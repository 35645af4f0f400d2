// The profile table tsh login and tsh status print, laid out as Teleport's.
import type { X509Certificate } from 'node:crypto';
import { validity } from '../core/human-duration.js';
import type { Profile } from './profile-store.js';

export function statusTable(profile: Profile, cert: X509Certificate, now: Date): string {
  const rows = [
    ['Profile URL', profile.proxy],
    ['Logged in as', profile.user],
    ['Cluster', profile.cluster],
    ['Roles', profile.roles.join(', ')],
    ['Kubernetes', 'enabled'],
    ['Kubernetes users', (profile.traits.kubernetes_users ?? []).join(', ')],
    ['Kubernetes groups', (profile.traits.kubernetes_groups ?? []).join(', ')],
    ['Valid until', validity(new Date(cert.validTo), now)],
  ];
  return `> ${rows.map(([k, v]) => `${`${k}:`.padEnd(20)}${v}`).join('\n  ')}\n`;
}
