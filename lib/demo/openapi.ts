// OpenAPI v3, only as much as kubectl reads before a write: `kubectl apply`, `create -f` and
// `replace` validate their input, and skip their own schema check when the server's PATCH
// operation for the kind takes the fieldValidation parameter (the server then validates, with
// fieldValidation=Strict). Without this document they fail with "failed to download openapi".
// No component schemas: kubectl then takes a strategic merge patch's field rules from its own
// built-in types, which are the API server's.
import { json } from './replies.js';
import { writableKinds } from './writable-kinds.js';

const HASH = 'kubeport-demo-1';

export const openapiRoot = json({ paths: { 'api/v1': { serverRelativeURL: `/openapi/v3/api/v1?hash=${HASH}` } } });

const parameter = (name: string) => ({ name, in: 'query', schema: { type: 'string', uniqueItems: true } });

export const openapiCoreV1 = json({
  openapi: '3.0.0',
  info: { title: 'Kubernetes', version: 'v1.32.0' },
  paths: Object.fromEntries(
    writableKinds.map(({ kind, resource }) => {
      const gvk = { group: '', version: 'v1', kind };
      const op = (action: string, params: string[]) => ({
        operationId: `${action}CoreV1Namespaced${kind}`,
        parameters: params.map(parameter),
        'x-kubernetes-action': action,
        'x-kubernetes-group-version-kind': gvk,
      });
      const writeParams = ['dryRun', 'fieldManager', 'fieldValidation'];
      return [
        `/api/v1/namespaces/{namespace}/${resource}/{name}`,
        { put: op('replace', writeParams), patch: op('patch', [...writeParams, 'force']), delete: op('delete', ['dryRun']) },
      ];
    }),
  ),
  components: { schemas: {} },
});
