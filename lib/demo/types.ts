// The stand-in's public shapes: its options, the users it knows, and what it records.
import type { ClusterCa, PemPair } from './cluster-ca.js';

export interface UserInfo {
  username: string;
  uid?: string;
  groups: string[];
  extra?: Record<string, string[]>;
}

export interface PodFixture {
  name: string;
  /** Default Running. */
  phase?: string;
  /** Container names; default ['main']. */
  containers?: string[];
  /**
   * TCP ports declared on the first container, each answered inside the pod for port-forward
   * (pod-network.ts): a name starting with "http" answers HTTP, any other echoes. Default
   * http 8080 and echo 9000; [] declares none.
   */
  ports?: Array<{ name?: string; containerPort: number }>;
  creationTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

export interface StreamOptions {
  intervalMs: number;
  /** Infinity: the stream stays open until the client leaves, as the demo cluster's do. */
  durationMs: number;
}

/** Whom a bearer token stands for. */
export interface TokenUser {
  username: string;
  groups?: string[];
  uid?: string;
}

export interface KubeApiServerOptions {
  tokens?: Record<string, TokenUser>;
  /**
   * Bearer tokens not in `tokens` are given to this check (a webhook authenticator, EKS's IAM
   * one): the user it returns, or undefined (or a throw) for a 401.
   */
  authenticateToken?: (token: string) => TokenUser | undefined;
  /** Usernames allowed to impersonate anyone. Default ['kubeport-agent']. */
  impersonators?: string[];
  /**
   * Groups whose members may impersonate anyone, as a ClusterRole granting impersonate bound to
   * them would allow. Read at each request, so a test may change the set while the server runs.
   * Members of system:masters always may.
   */
  impersonatorGroups?: ReadonlySet<string>;
  /**
   * User or group name -> namespaces it may do anything in; '*' also covers cluster-scoped
   * requests. Omitted: every authenticated user may do everything. system:masters always may.
   */
  rbac?: Record<string, string[]>;
  /** Default ['default', 'kube-system', 'prod']. */
  namespaces?: string[];
  /** Namespace -> pods. Default: web-0 and web-1 (Running, container 'web') in 'default'. */
  pods?: Record<string, PodFixture[]>;
  /**
   * Namespace -> ConfigMaps to start with, besides kube-root-ca.crt in every namespace. Tests of
   * large lists give a namespace thousands.
   */
  configMaps?: Record<string, Array<{ name: string; data?: Record<string, string>; labels?: Record<string, string> }>>;
  /**
   * Watches and followed logs: an event or a log line every intervalMs (default 200), and the
   * stream ends after durationMs (default 1000, short for tests), as a server-side timeout would
   * end it. The demo cluster passes durationMs Infinity: its streams last until the user stops them.
   */
  streams?: Partial<StreamOptions>;
}

export interface RecordedRequest {
  method: string;
  /** Request target as sent: path plus query. */
  path: string;
  /** Raw header lines in arrival order, names in their original case. */
  headers: Array<[string, string]>;
  /** Whom the credentials belong to; null when authentication failed. */
  authenticated: UserInfo | null;
  /** Whom the request runs as after impersonation; null when rejected before that. */
  effective: UserInfo | null;
  status?: number;
  /** The body of a write to a stored object (create, update, patch, delete), as it arrived. */
  body?: Buffer;
}

export interface KubeconfigOptions {
  contextName?: string;
  namespace?: string;
  /** Client-certificate user; default 'kubeport-agent'. */
  username?: string;
  groups?: string[];
  /** Authenticate with this bearer token instead of a client certificate. */
  token?: string;
  /** No credentials at all. Beware: kubectl then prompts for a username on stdin. */
  anonymous?: boolean;
}

export interface KubeApiServer {
  url: string;
  port: number;
  caPem: string;
  ca: ClusterCa;
  requests: RecordedRequest[];
  issueClientCert(username: string, groups?: string[]): Promise<PemPair>;
  writeKubeconfig(path: string, options?: KubeconfigOptions): Promise<string>;
  close(): Promise<void>;
}
