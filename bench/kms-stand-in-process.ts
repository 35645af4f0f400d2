// Bench child: the KMS stand-in in a process of its own, so its signing does not share an event
// loop (or a core's time slice) with the signer being measured. Holds one P-256 key.
import { startKmsStandIn } from '../test/support/kms-stand-in.js';
import { sendToParent, serveCommands } from './ipc.js';

export interface KmsStandInReady {
  type: 'ready';
  url: string;
  region: string;
  keyId: string;
}

const kms = await startKmsStandIn({ keys: [{ id: 'bench-user-ca' }] });
serveCommands(() => kms.close());
await sendToParent({ type: 'ready', url: kms.url, region: kms.region, keyId: 'bench-user-ca' } satisfies KmsStandInReady);
