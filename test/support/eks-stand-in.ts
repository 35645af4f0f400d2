// EKS's REST-JSON API on loopback (ListClusters, DescribeCluster), so the real @aws-sdk/client-eks
// runs unchanged against it: paths `/clusters` and `/clusters/{name}`, JSON bodies, timestamps in
// epoch seconds, errors as an `x-amzn-ErrorType` header with a JSON `{message}` and the status EKS uses.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { sigV4AccessKeyId } from './aws-json-stand-in.js';

export interface StandInCluster {
  name: string;
  endpoint: string;
  /** Base64 of the cluster CA's PEM, as DescribeCluster returns it. */
  caData: string;
  status: 'CREATING' | 'ACTIVE' | 'DELETING' | 'FAILED' | 'UPDATING' | 'PENDING';
  version: string;
  tags: Record<string, string>;
  securityGroupIds: string[];
  clusterSecurityGroupId: string;
  endpointPrivateAccess: boolean;
  endpointPublicAccess: boolean;
}

export interface EksStandIn {
  url: string;
  region: string;
  accountId: string;
  /** Adds a cluster (ACTIVE, private endpoint, no tags unless given) or replaces one of the same name. */
  addCluster(cluster: Partial<StandInCluster> & { name: string }): StandInCluster;
  removeCluster(name: string): void;
  setTags(name: string, tags: Record<string, string>): void;
  setStatus(name: string, status: StandInCluster['status']): void;
  /** DescribeCluster on these clusters answers AccessDeniedException, as for a caller without eks:DescribeCluster on them. */
  deniedDescribe: Set<string>;
  /** When set, every request answers this error (an EKS outage, throttling), counted as a call of its operation. */
  failWith: { type: string; status: number } | undefined;
  /** Requests per operation (ListClusters, DescribeCluster), failed ones included. */
  calls: Map<string, number>;
  /** The access key id of the last signed request. */
  lastAccessKeyId: string | undefined;
  close(): Promise<void>;
}

class EksError extends Error {
  constructor(
    readonly type: string,
    readonly status: number,
    message: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

// ListClusters accepts 1..100 and defaults to 100.
const MAX_RESULTS = 100;

function send(response: ServerResponse, status: number, body: unknown, errorType?: string): void {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    'x-amzn-requestid': randomUUID(),
    ...(errorType === undefined ? {} : { 'x-amzn-errortype': errorType }),
  });
  response.end(text);
}

export async function startEksStandIn(options: { region?: string; accountId?: string } = {}): Promise<EksStandIn> {
  const region = options.region ?? 'eu-west-1';
  const accountId = options.accountId ?? '123456789012';
  const clusters = new Map<string, StandInCluster & { createdAt: number }>();
  const calls = new Map<string, number>();
  const deniedDescribe = new Set<string>();
  let lastAccessKeyId: string | undefined;
  let failWith: { type: string; status: number } | undefined;
  const failIfAsked = () => {
    if (failWith) throw new EksError(failWith.type, failWith.status, `stand-in failure: ${failWith.type}`);
  };
  const arnOf = (name: string) => `arn:aws:eks:${region}:${accountId}:cluster/${name}`;
  const count = (operation: string) => calls.set(operation, (calls.get(operation) ?? 0) + 1);

  const listClusters = (query: URLSearchParams) => {
    count('ListClusters');
    failIfAsked();
    const maxText = query.get('maxResults');
    const max = maxText === null ? MAX_RESULTS : Number(maxText);
    if (!Number.isInteger(max) || max < 1 || max > MAX_RESULTS) {
      throw new EksError('InvalidParameterException', 400, 'maxResults must be between 1 and 100');
    }
    const names = [...clusters.keys()].sort();
    const token = query.get('nextToken');
    let start = 0;
    if (token !== null) {
      start = Number(Buffer.from(token, 'base64url').toString());
      if (!Number.isInteger(start) || start < 0) throw new EksError('InvalidParameterException', 400, 'The nextToken is not valid');
    }
    const page = names.slice(start, start + max);
    const next = start + max < names.length ? Buffer.from(String(start + max)).toString('base64url') : undefined;
    return { clusters: page, ...(next === undefined ? {} : { nextToken: next }) };
  };

  const describeCluster = (name: string) => {
    count('DescribeCluster');
    failIfAsked();
    if (deniedDescribe.has(name)) {
      throw new EksError(
        'AccessDeniedException',
        403,
        `User: arn:aws:sts::${accountId}:assumed-role/agent/task is not authorized to perform: eks:DescribeCluster on resource: ${arnOf(name)}`,
      );
    }
    const cluster = clusters.get(name);
    if (cluster === undefined) {
      throw new EksError('ResourceNotFoundException', 404, `No cluster found for name: ${name}.`, { clusterName: name });
    }
    const active = cluster.status === 'ACTIVE' || cluster.status === 'UPDATING';
    return {
      cluster: {
        name: cluster.name,
        arn: arnOf(cluster.name),
        createdAt: cluster.createdAt,
        version: cluster.version,
        // Endpoint and CA only exist while the control plane is up (an update keeps it up).
        ...(active ? { endpoint: cluster.endpoint, certificateAuthority: { data: cluster.caData } } : { certificateAuthority: {} }),
        status: cluster.status,
        roleArn: `arn:aws:iam::${accountId}:role/eks-cluster-role`,
        resourcesVpcConfig: {
          vpcId: 'vpc-0a1b2c3d',
          subnetIds: ['subnet-0a1b2c3d', 'subnet-1a2b3c4d'],
          securityGroupIds: cluster.securityGroupIds,
          clusterSecurityGroupId: cluster.clusterSecurityGroupId,
          endpointPrivateAccess: cluster.endpointPrivateAccess,
          endpointPublicAccess: cluster.endpointPublicAccess,
          publicAccessCidrs: cluster.endpointPublicAccess ? ['0.0.0.0/0'] : [],
        },
        accessConfig: { authenticationMode: 'API_AND_CONFIG_MAP' },
        platformVersion: 'eks.1',
        tags: cluster.tags,
      },
    };
  };

  const route = (request: IncomingMessage): unknown => {
    lastAccessKeyId = sigV4AccessKeyId(request.headers.authorization);
    if (lastAccessKeyId === undefined) throw new EksError('UnrecognizedClientException', 403, 'Missing Authentication Token');
    const url = new URL(request.url ?? '/', 'http://stand-in');
    if (request.method === 'GET' && url.pathname === '/clusters') return listClusters(url.searchParams);
    const match = /^\/clusters\/([^/]+)$/.exec(url.pathname);
    if (request.method === 'GET' && match) return describeCluster(decodeURIComponent(match[1]!));
    throw new EksError('NotFoundException', 404, `no such operation: ${request.method} ${url.pathname}`);
  };

  const server = createServer((request, response) => {
    // Drain the (empty) body before answering, as a real endpoint does.
    request.resume();
    request.on('end', () => {
      try {
        send(response, 200, route(request));
      } catch (error) {
        if (error instanceof EksError) send(response, error.status, { message: error.message, ...error.extra }, error.type);
        else send(response, 500, { message: String(error) }, 'ServerException');
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  const existing = (name: string) => {
    const cluster = clusters.get(name);
    if (cluster === undefined) throw new Error(`the stand-in has no cluster ${name}`);
    return cluster;
  };

  return {
    url: `http://127.0.0.1:${port}`,
    region,
    accountId,
    addCluster(fields) {
      const cluster = {
        endpoint: `https://${randomUUID().replaceAll('-', '').slice(0, 32).toUpperCase()}.gr7.${region}.eks.amazonaws.com`,
        caData: Buffer.from('-----BEGIN CERTIFICATE-----\nstand-in\n-----END CERTIFICATE-----\n').toString('base64'),
        status: 'ACTIVE' as const,
        version: '1.32',
        tags: {},
        securityGroupIds: [],
        clusterSecurityGroupId: `sg-${randomUUID().slice(0, 8)}`,
        endpointPrivateAccess: true,
        endpointPublicAccess: false,
        ...fields,
        createdAt: Math.floor(Date.now() / 1000),
      };
      clusters.set(cluster.name, cluster);
      return cluster;
    },
    removeCluster(name) {
      clusters.delete(name);
    },
    setTags(name, tags) {
      existing(name).tags = { ...tags };
    },
    setStatus(name, status) {
      existing(name).status = status;
    },
    deniedDescribe,
    get failWith() {
      return failWith;
    },
    set failWith(failure) {
      failWith = failure;
    },
    calls,
    get lastAccessKeyId() {
      return lastAccessKeyId;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
