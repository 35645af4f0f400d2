// Roles that exist from the first start, as Teleport ships them.
import type { Role } from './resources.js';

export const accessRole: Role = {
  kind: 'role',
  version: 'v7',
  metadata: { name: 'access', description: "Reach every Kubernetes cluster as the user's own Kubernetes users and groups" },
  spec: {
    options: { max_session_ttl: '30h' },
    allow: {
      kubernetes_labels: { '*': '*' },
      kubernetes_groups: ['{{internal.kubernetes_groups}}'],
      kubernetes_users: ['{{internal.kubernetes_users}}'],
      kubernetes_resources: [{ kind: '*', namespace: '*', name: '*', verbs: ['*'] }],
    },
    deny: {},
  },
};

export const editorRole: Role = {
  kind: 'role',
  version: 'v7',
  metadata: { name: 'editor', description: 'Manage users, roles and clusters' },
  spec: {
    options: { max_session_ttl: '30h' },
    allow: { rules: [{ resources: ['*'], verbs: ['*'] }] },
    deny: {},
  },
};

// Teleport's auditor: reads the audit log and session recordings, changes nothing.
export const auditorRole: Role = {
  kind: 'role',
  version: 'v7',
  metadata: { name: 'auditor', description: 'Search the audit log and play session recordings' },
  spec: {
    options: { max_session_ttl: '30h' },
    allow: {
      rules: [
        { resources: ['event'], verbs: ['list', 'read'] },
        { resources: ['session'], verbs: ['list', 'read'] },
      ],
    },
    deny: {},
  },
};

export const builtinRoles: Role[] = [accessRole, editorRole, auditorRole];
