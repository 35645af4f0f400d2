// Certificates signed per second through one KmsSigner, and what KMS's Sign quota means for logins.
//
// The KMS stand-in runs in a child process and speaks the real protocol; the signer is the real
// @aws-sdk/client-kms over HTTP on loopback. Each certificate is a user certificate built by
// lib/core (issueUserCertificate), so the figure includes building it, hashing it and the SDK's
// request signing; the stand-in answers in well under a millisecond, real KMS takes longer, so
// with KMS the concurrency-16 rate is bounded by its latency and the account quota, not by this.
//
// 50 warm-up certificates, then 1,000 timed ones at concurrency 1 and 2,000 at concurrency 16.
import { generateKeyPairSync } from 'node:crypto';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { makeKmsClient } from '../lib/adapters/aws/clients.js';
import { KmsSigner } from '../lib/adapters/aws/kms-signer.js';
import { systemClock, systemRandom } from '../lib/adapters/system.js';
import { createCaCertificate, issueUserCertificate, type IssuingCa } from '../lib/core/certificate-authority.js';
import type { Identity } from '../lib/core/identity.js';
import type { Signer } from '../lib/core/ports.js';
import { nextMessage, usageOf } from './ipc.js';
import type { KmsStandInReady } from './kms-stand-in-process.js';
import { startChild, stopProcess } from './processes.js';

/** KMS's default request quota for ECC Sign/Verify, per account and Region (adjustable). */
const KMS_ECC_SIGN_QUOTA_PER_SECOND = 300;
/** KMS Sign calls a GitHub login makes: the user certificate. Nothing else signs with a CA key per login. */
const SIGNS_PER_LOGIN = 1;

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;

const identity: Identity = {
  username: 'bench@example.com',
  roles: ['access'],
  traits: { logins: ['bench'], kubernetes_groups: ['devs'] },
  connector: 'github',
  accessRequests: [],
  issuedAt: new Date().toISOString(),
};

/** Signs through `signer`, timing each call to KMS. */
function timedSigner(signer: Signer, samples: number[]): Signer {
  return {
    publicKeySpki: () => signer.publicKeySpki(),
    async sign(data) {
      const start = performance.now();
      const signature = await signer.sign(data);
      samples.push(performance.now() - start);
      return signature;
    },
  };
}

async function run(ca: IssuingCa, subject: Uint8Array, total: number, concurrency: number) {
  let next = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) {
        next++;
        await issueUserCertificate(ca, subject, identity, 3_600_000);
      }
    }),
  );
  return total / ((performance.now() - start) / 1000);
}

async function main(): Promise<void> {
  const child = startChild('./kms-stand-in-process.ts');
  try {
    const ready = await nextMessage<KmsStandInReady>(child, 'ready', 30_000);
    // Credentials of no account: the stand-in reads the access key id only.
    const client = makeKmsClient({
      region: ready.region,
      endpoint: ready.url,
      credentials: { accessKeyId: 'AKIABENCH', secretAccessKey: 'bench' },
    });
    const samples: number[] = [];
    const signer = timedSigner(new KmsSigner(client, ready.keyId), samples);
    const caDeps = { signer, clock: systemClock, random: systemRandom };
    const ca: IssuingCa = { ...caDeps, certPem: await createCaCertificate(caDeps, 'bench user CA', 86_400_000) };
    const subject = new Uint8Array(generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'der' }));

    await run(ca, subject, 50, 4);
    console.log('KMS signer (KmsSigner, @aws-sdk/client-kms over loopback HTTP to the KMS stand-in in its own process)');
    // Both processes share the machine's cores; a busy machine lowers the figures.
    console.log(`  ${os.cpus().length} cores, load average ${os.loadavg()[0]!.toFixed(1)} at the start`);
    for (const [total, concurrency] of [
      [1_000, 1],
      [2_000, 16],
    ] as const) {
      samples.length = 0;
      const clientCpuBefore = process.cpuUsage();
      const standInCpuBefore = (await usageOf(child)).cpuMicros;
      const perSecond = await run(ca, subject, total, concurrency);
      const clientCpu = process.cpuUsage(clientCpuBefore);
      const standInCpu = (await usageOf(child)).cpuMicros - standInCpuBefore;
      const sorted = [...samples].sort((a, b) => a - b);
      // CPU time per certificate holds on a busy machine, where the wall-clock rate does not.
      console.log(
        `  concurrency ${String(concurrency).padStart(2)}: ${perSecond.toFixed(0).padStart(5)} certificates/s   ` +
          `sign p50 ${percentile(sorted, 50).toFixed(2)} ms   p99 ${percentile(sorted, 99).toFixed(2)} ms   ` +
          `CPU per certificate: signer side ${((clientCpu.user + clientCpu.system) / total).toFixed(0)} µs, stand-in ${(standInCpu / total).toFixed(0)} µs`,
      );
    }
    client.destroy();
    console.log(
      `  KMS quota: ${KMS_ECC_SIGN_QUOTA_PER_SECOND} ECC Sign/s per account and Region (default, adjustable) at ${SIGNS_PER_LOGIN} Sign per login ` +
        `(the user certificate; signed API calls are signed by the user's own key, the public key is read once per process) ` +
        `= ${KMS_ECC_SIGN_QUOTA_PER_SECOND / SIGNS_PER_LOGIN} logins/s, shared with every other Sign in the account and Region ` +
        `(agent host certificates, CA rotation, other applications' ECC keys)`,
    );
  } finally {
    await stopProcess(child, 'ipc');
  }
}

await main();
