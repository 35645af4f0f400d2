// What the use cases need from the outside world, passed in by each entry point.
import type { CertAuthorities } from '../core/certificate-authority.js';
import type {
  AuditLog,
  Clock,
  DeploymentSecret,
  GitHubApi,
  Random,
  RecordingStore,
  ResourceStore,
  SecretBox,
  SigningKeys,
  StateStore,
} from '../core/ports.js';

export interface ServiceDeps {
  clusterName: string;
  resources: ResourceStore;
  state: StateStore;
  audit: AuditLog;
  secrets: SecretBox;
  clock: Clock;
  random: Random;
  /** Which CA signs and which certificates are trusted, now (rotation changes both). */
  cas: CertAuthorities;
  /** Where CA keys live; rotation (POST /webapi/ca/rotate) makes new ones. Without it, rotation answers it is not available here. */
  caKeys?: SigningKeys;
  /** host:port kubectl reaches the agent at. */
  agentAddress: string;
  serverVersion: string;
  /** GitHub's OAuth and REST API; without it, GitHub login answers that it is not available here. */
  github?: GitHubApi;
  /**
   * The deployment's GitHub OAuth client secret (Secrets Manager on AWS), for connectors whose
   * client_secret_source says so; without it, such a connector answers that it cannot sign in here.
   */
  githubClientSecret?: DeploymentSecret;
  /**
   * The client ID of the OAuth app that secret belongs to: a connector that takes the deployment's
   * secret must name this client ID, or it is refused (when stored and when used).
   */
  githubClientId?: string;
  /** The GitHub that OAuth app lives on, the only one the deployment's secret is sent to. @default github.com */
  githubEndpoints?: { endpointUrl: string; apiEndpointUrl: string };
  /** Session recordings (asciicast v2); without it, tsh play answers that none are stored here. */
  recordings?: RecordingStore;
  /** Largest recording played back (read whole into memory); larger ones are refused, saying where they are. */
  maxPlaybackBytes?: number;
}
