// The cluster side of the agent: where a cluster's API server is and how the agent proves itself there.

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

export interface ClusterDirectory {
  /** The cluster as it is now, or undefined when no such cluster is registered. */
  resolve(name: string): Promise<UpstreamCluster | undefined>;
}
