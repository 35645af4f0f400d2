// Discovery: one model of the served API, rendered once into the aggregated and the legacy
// documents kubectl asks for, plus /version.
import { json, optional } from './replies.js';

interface ResourceDef {
  name: string;
  singular: string;
  kind: string;
  namespaced: boolean;
  verbs: string[];
  shortNames?: string[];
  subresources?: Array<{ name: string; kind: string; verbs: string[] }>;
}

interface GroupVersionDef {
  group: string;
  version: string;
  resources: ResourceDef[];
}

const readVerbs = ['get', 'list', 'watch'];
const writeVerbs = ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'];
const apiModel: GroupVersionDef[] = [
  {
    group: '',
    version: 'v1',
    resources: [
      { name: 'configmaps', singular: 'configmap', kind: 'ConfigMap', namespaced: true, verbs: writeVerbs, shortNames: ['cm'] },
      { name: 'events', singular: 'event', kind: 'Event', namespaced: true, verbs: readVerbs, shortNames: ['ev'] },
      { name: 'namespaces', singular: 'namespace', kind: 'Namespace', namespaced: false, verbs: readVerbs, shortNames: ['ns'] },
      // None at first: there so that roles denying secrets can be tried with kubectl get secrets.
      { name: 'secrets', singular: 'secret', kind: 'Secret', namespaced: true, verbs: writeVerbs },
      {
        name: 'pods',
        singular: 'pod',
        kind: 'Pod',
        namespaced: true,
        verbs: readVerbs,
        shortNames: ['po'],
        subresources: [
          { name: 'attach', kind: 'PodAttachOptions', verbs: ['create', 'get'] },
          { name: 'exec', kind: 'PodExecOptions', verbs: ['create', 'get'] },
          { name: 'log', kind: 'Pod', verbs: ['get'] },
          { name: 'portforward', kind: 'PodPortForwardOptions', verbs: ['create', 'get'] },
        ],
      },
    ],
  },
  {
    group: 'authentication.k8s.io',
    version: 'v1',
    resources: [
      { name: 'selfsubjectreviews', singular: 'selfsubjectreview', kind: 'SelfSubjectReview', namespaced: false, verbs: ['create'] },
    ],
  },
  {
    group: 'authorization.k8s.io',
    version: 'v1',
    resources: [
      {
        name: 'selfsubjectaccessreviews',
        singular: 'selfsubjectaccessreview',
        kind: 'SelfSubjectAccessReview',
        namespaced: false,
        verbs: ['create'],
      },
    ],
  },
];

const groupVersion = (gv: GroupVersionDef) => (gv.group ? `${gv.group}/${gv.version}` : gv.version);

function aggregatedDiscovery(gvs: GroupVersionDef[]): Buffer {
  const items = gvs.map((gv) => {
    const responseKind = (kind: string) => ({ group: gv.group, version: gv.version, kind });
    const resources = gv.resources.map((r) => ({
      resource: r.name,
      responseKind: responseKind(r.kind),
      scope: r.namespaced ? 'Namespaced' : 'Cluster',
      singularResource: r.singular,
      ...optional('shortNames', r.shortNames),
      verbs: r.verbs,
      ...optional(
        'subresources',
        r.subresources?.map((s) => ({ subresource: s.name, responseKind: responseKind(s.kind), verbs: s.verbs })),
      ),
    }));
    return { metadata: gv.group ? { name: gv.group } : {}, versions: [{ version: gv.version, resources, freshness: 'Current' }] };
  });
  return json({ kind: 'APIGroupDiscoveryList', apiVersion: 'apidiscovery.k8s.io/v2', metadata: {}, items });
}

function resourceList(gv: GroupVersionDef): Buffer {
  const resources = gv.resources.flatMap((r) => [
    {
      name: r.name,
      singularName: r.singular,
      namespaced: r.namespaced,
      kind: r.kind,
      verbs: r.verbs,
      ...optional('shortNames', r.shortNames),
    },
    ...(r.subresources ?? []).map((s) => ({
      name: `${r.name}/${s.name}`,
      singularName: '',
      namespaced: r.namespaced,
      kind: s.kind,
      verbs: s.verbs,
    })),
  ]);
  return json({ kind: 'APIResourceList', apiVersion: 'v1', groupVersion: groupVersion(gv), resources });
}

function groupList(gvs: GroupVersionDef[]): Buffer {
  const groups = gvs.map((gv) => {
    const version = { groupVersion: groupVersion(gv), version: gv.version };
    return { name: gv.group, versions: [version], preferredVersion: version };
  });
  return json({ kind: 'APIGroupList', apiVersion: 'v1', groups });
}

const coreModel = apiModel.filter((gv) => gv.group === '');
const groupModel = apiModel.filter((gv) => gv.group !== '');
export const discoveryDocs = {
  aggregatedCore: aggregatedDiscovery(coreModel),
  aggregatedGroups: aggregatedDiscovery(groupModel),
  legacyGroups: groupList(groupModel),
  resourceLists: new Map(apiModel.map((gv) => [groupVersion(gv), resourceList(gv)])),
};

export const versionDoc = json({
  major: '1',
  minor: '32',
  gitVersion: 'v1.32.0',
  gitCommit: '0000000000000000000000000000000000000000',
  gitTreeState: 'clean',
  buildDate: '2024-12-11T00:00:00Z',
  goVersion: 'go1.23.3',
  compiler: 'gc',
  platform: 'linux/amd64',
});

/** /api in the legacy form names the server's address, so it is built once the port is known. */
export function legacyCoreDocument(port: number): Buffer {
  return json({
    kind: 'APIVersions',
    versions: ['v1'],
    serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: `127.0.0.1:${port}` }],
  });
}
