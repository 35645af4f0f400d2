// Interfaces that core and services depend on. Adapters (AWS, local, test) implement them.
import type { DiscoveredCluster } from './cluster-discovery.js';
import type { ClusterHealth } from './kube-cluster-health.js';

export interface Clock {
  now(): Date;
}

export interface Random {
  bytes(length: number): Uint8Array;
}

/** Signs with a CA key that never leaves its holder (KMS on AWS, a file in local mode). */
export interface Signer {
  /** DER SubjectPublicKeyInfo of the P-256 key. */
  publicKeySpki(): Promise<Uint8Array>;
  /** ECDSA P-256 over SHA-256 of `data`; DER-encoded signature, as KMS returns it. */
  sign(data: Uint8Array): Promise<Uint8Array>;
}

/**
 * Where CA keys live: asymmetric KMS keys on AWS, 0600 files in local mode. A key id is opaque
 * (a KMS key ARN, a file name) and is stored in the CA resource next to its certificate.
 */
export interface SigningKeys {
  /** A new P-256 signing key, for a CA rotation; returns its id. */
  create(type: 'user' | 'host'): Promise<string>;
  /** The signer of a key. Whether its public key matches a CA certificate is the caller's check. */
  signer(keyId: string): Signer;
  /** The key signs no more (KMS: deletion scheduled after the waiting period; local: file removed). */
  retire(keyId: string): Promise<void>;
}

/** Seals small secrets at rest (TOTP seeds): KMS Encrypt on AWS, a file-held key locally. */
export interface SecretBox {
  seal(plaintext: string): Promise<string>;
  open(sealed: string): Promise<string>;
}

/**
 * A secret the deployment holds outside Kubeport's tables (Secrets Manager on AWS), read once and
 * kept; `refresh` reads it again, for when the holder says the kept one is no longer accepted.
 */
export interface DeploymentSecret {
  value(): Promise<string>;
  refresh(): Promise<string>;
}

export interface StoredResource<T = unknown> {
  kind: string;
  name: string;
  /** Opaque; changes on every write. Used for compare-and-swap. */
  revision: string;
  body: T;
}

export interface PutOptions {
  /** A revision the stored item must have; `null` means the item must not exist yet. */
  expectRevision?: string | null;
}

/** Durable resources (roles, users, clusters, CAs...). Keyed by kind and name. */
export interface ResourceStore {
  get<T>(kind: string, name: string): Promise<StoredResource<T> | undefined>;
  list<T>(kind: string): Promise<StoredResource<T>[]>;
  /** Throws ConflictError when `expectRevision` does not hold. */
  put<T>(kind: string, name: string, body: T, options?: PutOptions): Promise<StoredResource<T>>;
  /** Returns false when nothing was there. Throws ConflictError when `expectRevision` does not hold. */
  delete(kind: string, name: string, options?: PutOptions): Promise<boolean>;
}

/** Short-lived records that expire on their own (login state, invites, JWS ids, failure counters). */
export interface StateStore {
  /** Stores `value` unless a live record holds `key`; true when stored. */
  putIfAbsent(key: string, value: unknown, expiresAt: Date): Promise<boolean>;
  /** A live record, or undefined (expired records count as absent). */
  get<T>(key: string): Promise<T | undefined>;
  /** Removes and returns a live record; a second take of the same key gets undefined. */
  take<T>(key: string): Promise<T | undefined>;
  /** Adds one to a counter that lives until `expiresAt` (set when the counter is created). */
  increment(key: string, expiresAt: Date): Promise<number>;
  /** A live counter's value and the time it ends, or undefined. */
  counter(key: string): Promise<{ count: number; expiresAt: Date } | undefined>;
  delete(key: string): Promise<void>;
}

export interface AuditEvent {
  event: string;
  code: string;
  time: string;
  uid: string;
  user?: string;
  success?: boolean;
  [field: string]: unknown;
}

export interface AuditQuery {
  from: Date;
  to: Date;
  /** Event name, e.g. kube.request. */
  event?: string;
  user?: string;
  /** kubernetes_cluster */
  cluster?: string;
  /** resource_namespace or kubernetes_pod_namespace */
  namespace?: string;
  /** sid: every event of one session. */
  sessionId?: string;
  limit?: number;
  /** From a previous page's `cursor`: the page goes on after its last event. */
  cursor?: string;
}

export interface AuditPage {
  /** Newest first. */
  events: AuditEvent[];
  /** Present when more events match: pass it back as `cursor` for the next page. */
  cursor?: string;
}

export interface AuditLog {
  /** Writes one event before returning (login, certificate and admin events are written before the answer). */
  emit(event: AuditEvent): Promise<void>;
  /**
   * Writes a batch. Idempotent by (time, uid): an event written twice (a replay after a crash or
   * a retry) is stored once. Rejects when any event could not be written; the caller retries all.
   */
  write(events: AuditEvent[]): Promise<void>;
  search(query: AuditQuery): Promise<AuditPage>;
}

/** The long-term archive (S3, gzip JSON lines under date-partitioned keys, read by Athena). */
export interface AuditArchive {
  /** Stores one object holding `events`; the key is derived from the events, so a replayed batch overwrites itself. */
  append(events: AuditEvent[]): Promise<void>;
}

/** Local disk where events wait while the audit store is unreachable (they survive a restart). */
export interface AuditSpool {
  /** Appends durably (written and synced before it resolves). */
  append(events: AuditEvent[]): Promise<void>;
  /** The oldest spooled events, up to `max`, with `done()` to remove them once stored; undefined when empty. */
  peek(max: number): Promise<{ events: AuditEvent[]; done(): Promise<void> } | undefined>;
  /** Events spooled and not yet removed. */
  size(): number;
  /** Appends still have room to spare (a reserve for events already on their way); absent: always. */
  hasRoom?(): boolean;
}

export interface AuditCounters {
  /** Events stored in the audit log since start. */
  written: number;
  /** Events that went to the local spool since start (store unreachable or memory bound reached). */
  spooled: number;
  /** Events lost (spool full or unwritable). Must stay 0. */
  dropped: number;
  /** Events waiting in memory or in the spool now. */
  pending: number;
}

/** What the agent hands events to: never blocks a request, never loses an event it could spool. */
export interface AuditSink {
  submit(event: AuditEvent): void;
  /** False while events cannot reach the store (they are being spooled): `audit: strict` roles are refused. */
  readonly healthy: boolean;
  counters(): AuditCounters;
  /** Writes everything pending (to the store, else to the spool) before resolving; for SIGTERM. */
  flush(deadlineMs: number): Promise<void>;
  close(): Promise<void>;
}

/** Session recordings (asciicast v2), stored in parts while the session runs. */
export interface RecordingStore {
  /** Stores part `index` (0, 1, …) of a session; a part stored again overwrites itself. */
  putPart(sessionId: string, index: number, body: Buffer): Promise<void>;
  /**
   * The parts stored so far, in order, joined: a playable .cast even if the session never ended.
   * With `maxBytes`, a recording larger than that is refused (RecordingTooLargeError) before any part is read.
   */
  read(sessionId: string, maxBytes?: number): Promise<Buffer | undefined>;
  /** Where the recording is, for session.upload events (s3://bucket/key…). */
  url(sessionId: string): string;
}

/** A cluster's API server as the agent reaches it: where it is and how the agent proves itself there. */
export interface UpstreamCluster {
  name: string;
  labels: Record<string, string>;
  /** https://host:port[/base-path] */
  server: URL;
  tls: {
    ca?: string;
    cert?: string;
    key?: string;
    servername?: string;
    insecureSkipVerify?: boolean;
  };
  /** The agent's own bearer token (EKS: a presigned STS token), when it authenticates with one. */
  bearerToken?: () => Promise<string>;
}

/** A registered cluster as authorization sees it: its name and labels, nothing about how to reach it. */
export interface RegisteredCluster {
  name: string;
  labels: Record<string, string>;
}

/** The clusters the agent may forward to, looked up by name at each request. */
export interface ClusterDirectory {
  /**
   * The cluster's name and labels as registered now (the resource store only, no network call),
   * or undefined when this directory has no such cluster. Authorization decides on this, so a
   * user never makes the agent describe, assume a role for, or report on a cluster they may not see.
   */
  registered(name: string): Promise<RegisteredCluster | undefined>;
  /** The cluster as it is now, or undefined when no such cluster is registered. Called only after authorization. */
  resolve(name: string): Promise<UpstreamCluster | undefined>;
  /** Forgets what is cached about reaching `name` (a health check found it unreachable): the next resolve looks again. */
  invalidate?(name: string): void;
}

/** The agent's own latest health of each cluster (in memory), for fail-fast answers to an unhealthy one. */
export interface ClusterHealthView {
  /** The last check's result, or undefined before the first check of that cluster. */
  current(cluster: string): ClusterHealth | undefined;
}

/** One listing of the clusters carrying the discovery tag, over every region discovery covers. */
export interface TaggedClusterListing {
  /** Clusters found carrying the tag, with all their tags. */
  clusters: DiscoveredCluster[];
  /** Clusters listed but not described this round (denied, throttled): whether they carry the tag is unknown. */
  unreadable: string[];
  /** Regions that could not be listed at all: what is registered from them stays as it is. */
  failedRegions: { region: string; message: string }[];
}

/** The clusters carrying the discovery tag (EKS: ListClusters and DescribeCluster in each region). */
export interface TaggedClusterSource {
  /** Never throws for one region's failure: that region is named in failedRegions. */
  list(): Promise<TaggedClusterListing>;
}

/** Where a connector's GitHub is: github.com, or a GitHub Enterprise Server. */
export interface GitHubEndpoints {
  /** Web and OAuth endpoints, e.g. https://github.com (no trailing slash). */
  endpointUrl: string;
  /** REST API, e.g. https://api.github.com (no trailing slash). */
  apiEndpointUrl: string;
}

export interface GitHubOAuthApp extends GitHubEndpoints {
  clientId: string;
  clientSecret: string;
}

export interface GitHubDeviceCode {
  deviceCode: string;
  userCode: string;
  verificationUri: string;
  expiresInSeconds: number;
  intervalSeconds: number;
}

/** One poll of the device flow's token endpoint; refusals (denied, expired, disabled) are thrown. */
export type GitHubDevicePoll =
  { status: 'pending' } | { status: 'slow_down'; intervalSeconds: number } | { status: 'granted'; accessToken: string };

export interface GitHubUser {
  login: string;
  /** GitHub's immutable numeric id, as a string. */
  id: string;
}

export interface GitHubUserTeam {
  organization: string;
  slug: string;
  name: string;
}

/** GitHub's OAuth and REST API. Errors are KubeportErrors whose message says what to do. */
export interface GitHubApi {
  /** Exchanges an authorization code (with its PKCE verifier) for the user's access token. */
  exchangeCode(app: GitHubOAuthApp, request: { code: string; redirectUri: string; codeVerifier: string }): Promise<string>;
  startDeviceFlow(app: GitHubOAuthApp, scope: string): Promise<GitHubDeviceCode>;
  pollDeviceToken(app: GitHubOAuthApp, deviceCode: string): Promise<GitHubDevicePoll>;
  user(endpoints: GitHubEndpoints, accessToken: string): Promise<GitHubUser>;
  /** Every team of the user, all pages (refuses past a page cap rather than return a partial list). */
  teams(endpoints: GitHubEndpoints, accessToken: string): Promise<GitHubUserTeam[]>;
}
