// Kubeport on AWS, one stack. So far its data layer: tables, buckets and the CA keys. The auth
// and admin functions, the HTTP API and the agent service join it as their issues land.
import { Stack, type StackProps } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { CertificateAuthorities } from './certificate-authorities.js';
import { Storage } from './storage.js';

export interface KubeportStackProps extends StackProps {
  /**
   * Keep tables and buckets when the stack is deleted.
   * @default true
   */
  readonly retainData?: boolean;
}

export class KubeportStack extends Stack {
  readonly storage: Storage;
  readonly certificateAuthorities: CertificateAuthorities;

  constructor(scope: Construct, id: string, props: KubeportStackProps = {}) {
    super(scope, id, props);
    this.storage = new Storage(this, 'Storage', { retain: props.retainData ?? true });
    this.certificateAuthorities = new CertificateAuthorities(this, 'CertificateAuthorities');
  }
}
