// Placeholder for the request-info contract; the enforce branch owns this file and its parser.
// The interface below is the agreed contract, kept identical so that branch's version replaces it.

export interface KubeRequestInfo {
  isResourceRequest: boolean;
  /** get list watch create update patch delete deletecollection, or for non-resource paths get post put delete ... */
  verb: string;
  apiPrefix: 'api' | 'apis' | '';
  apiGroup: string;
  apiVersion: string;
  namespace: string;
  resource: string;
  subresource: string;
  name: string;
  path: string;
}
