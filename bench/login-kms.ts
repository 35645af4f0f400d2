// Login latency with the user CA's key in KMS (the stand-in), and what KMS's Sign quota allows.
//
// The GitHub browser login, server side, as bench/github-login.ts times it: POST
// /webapi/github/login/console, then GET /webapi/github/callback (state, code exchange at the GitHub
// stand-in, /user and /user/teams, user upsert, the certificate, the sealed answer). Three setups,
// one after the other:
//   - the bundled auth handler (index.mjs built as the stack builds it) in a process of its own,
//     as Lambda runs it, against dynalite, the KMS and Secrets Manager stand-ins (test/support/
//     aws-mode.ts), after the CA bootstrap bundle created the CAs and the GitHub connector;
//   - the TypeScript auth handler (test/support/github-harness.ts) with the user CA signing
//     through KmsSigner and the KMS stand-in, then the same with the file signer (local mode's),
//     so the two differ in the signer only.
// Each login comes from its own loopback address (127.0.x.y), so the per-address limit on login
// starts (30 a minute) never refuses one: every login is measured, not a refusal. Sign calls are
// counted during the timed logins, which gives the logins per second KMS's quota allows.
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import http from 'node:http';
import { makeKmsClient } from '../lib/adapters/aws/clients.js';
import { KmsSigner } from '../lib/adapters/aws/kms-signer.js';
import { FileSigner } from '../lib/adapters/local/file-signer.js';
import { systemRandom } from '../lib/adapters/system.js';
import { newKeyPair } from '../lib/client/login.js';
import { createCaCertificate, fixedCertAuthorities } from '../lib/core/certificate-authority.js';
import type { Signer } from '../lib/core/ports.js';
import { startAwsMode } from '../test/support/aws-mode.js';
import { startGitHubHarness } from '../test/support/github-harness.js';
import { startKmsStandIn } from '../test/support/kms-stand-in.js';
import { percentile } from './statistics.js';

const WARMUP = 20;
const TOTAL = Number(process.env.BENCH_LOGINS ?? 200);
/** KMS's default quota for ECC Sign (shared with Verify), per account and Region; adjustable. */
const KMS_ECC_SIGN_QUOTA_PER_SECOND = 300;

interface Setup {
  name: string;
  /** host:port of the API. */
  proxy: string;
  /** Sign calls made with the user CA's key so far. */
  signs(): number;
  close(): Promise<void>;
}

interface LoginTiming {
  consoleMs: number;
  callbackMs: number;
}

/** The login's i-th source address: 127.0.1.2 onwards, one per login. */
const sourceAddress = (i: number) => `127.0.${1 + Math.floor(i / 250)}.${2 + (i % 250)}`;

/** POSTs JSON from a chosen local address (fetch cannot choose one); the status and the parsed answer. */
function postJsonFrom(url: string, body: unknown, localAddress: string): Promise<{ status: number; answer: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const request = http.request(
      url,
      { method: 'POST', headers: { 'content-type': 'application/json' }, localAddress, agent: false },
      (res) => {
        let text = '';
        res.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, answer: JSON.parse(text) as Record<string, unknown> }));
        res.on('error', reject);
      },
    );
    request.on('error', reject);
    request.end(JSON.stringify(body));
  });
}

async function login(proxy: string, i: number): Promise<LoginTiming> {
  const keys = newKeyPair();
  // tsh's loopback listener is never reached: the page the callback answers points at it with the answer.
  const redirectUrl = `http://127.0.0.1:9/callback?secret_key=${randomBytes(32).toString('hex')}`;
  const t0 = performance.now();
  const started = await postJsonFrom(
    `http://${proxy}/webapi/github/login/console`,
    { public_key: keys.publicKeyPem, redirect_url: redirectUrl },
    sourceAddress(i),
  );
  const t1 = performance.now();
  const authorizeUrl = started.answer.redirect_url;
  if (started.status !== 200 || typeof authorizeUrl !== 'string') {
    throw new Error(`login ${i}: console answered ${started.status} ${JSON.stringify(started.answer)}`);
  }
  // The browser at GitHub (the stand-in, already signed in): not Kubeport's time, not counted.
  const authorize = await fetch(authorizeUrl, { redirect: 'manual' });
  await authorize.arrayBuffer();
  const callbackUrl = authorize.headers.get('location');
  if (!callbackUrl) throw new Error(`login ${i}: GitHub answered ${authorize.status} without a redirect`);
  const t2 = performance.now();
  const callback = await fetch(callbackUrl, { redirect: 'manual' });
  const page = await callback.text();
  const t3 = performance.now();
  // The answer is a page that sends the browser on to tsh's listener with the sealed result.
  if (callback.status !== 200 || !page.includes('response=')) {
    throw new Error(`login ${i}: the callback answered ${callback.status} without the sealed answer: ${page.slice(0, 300)}`);
  }
  return { consoleMs: t1 - t0, callbackMs: t3 - t2 };
}

async function bundledAuthWithKms(): Promise<Setup> {
  const aws = await startAwsMode(`bench-${randomBytes(12).toString('hex')}`);
  try {
    const bootstrap = await aws.start('caBootstrap');
    await aws.start('auth');
    const created = await aws.cloudFormation(bootstrap, 'Create', aws.githubProperties());
    if (created.body.Status !== 'SUCCESS') throw new Error(`the CA bootstrap failed: ${created.body.Reason}`);
    aws.github.addUser({ id: 1, login: 'bench', teams: [{ organization: 'acme', slug: 'platform-admins' }] });
    aws.github.signedIn = 1;
    return {
      name: 'bundled auth handler, KMS stand-in',
      proxy: aws.proxy,
      signs: () => aws.kms.calls.get('Sign') ?? 0,
      close: () => aws.close(),
    };
  } catch (error) {
    await aws.close();
    throw error;
  }
}

function countingSigner(signer: Signer, count: { signs: number }): Signer {
  return {
    publicKeySpki: () => signer.publicKeySpki(),
    sign: (data) => {
      count.signs++;
      return signer.sign(data);
    },
  };
}

async function typescriptAuthWith(kind: 'kms' | 'file'): Promise<Setup> {
  const g = await startGitHubHarness();
  const kms = kind === 'kms' ? await startKmsStandIn({ keys: [{ id: 'bench-user-ca' }] }) : undefined;
  const client = kms
    ? makeKmsClient({ region: kms.region, endpoint: kms.url, credentials: { accessKeyId: 'AKIDBENCH', secretAccessKey: 'bench' } })
    : undefined;
  const count = { signs: 0 };
  const signer = countingSigner(client ? new KmsSigner(client, 'bench-user-ca') : FileSigner.generate(), count);
  const caDeps = { signer, clock: g.h.clock, random: systemRandom };
  const userCa = { ...caDeps, certPem: await createCaCertificate(caDeps, 'Kubeport user CA', 86_400_000) };
  // The handlers ask deps.cas at every call, so the harness's user CA is replaced in place.
  g.h.deps.cas = fixedCertAuthorities(userCa, g.h.hostCa);
  g.github.addUser({ id: 1, login: 'bench', teams: [{ organization: 'acme', slug: 'platform' }] });
  g.github.signedIn = 1;
  return {
    name: kind === 'kms' ? 'TypeScript auth handler, KmsSigner + KMS stand-in' : 'TypeScript auth handler, file signer',
    proxy: g.h.proxy,
    signs: () => count.signs,
    close: async () => {
      client?.destroy();
      await kms?.close();
      await g.close();
    },
  };
}

const ms = (value: number) => value.toFixed(1).padStart(7);

async function measure(start: () => Promise<Setup>): Promise<{ setup: string; row: string; signsPerLogin: number }> {
  const setup = await start();
  try {
    for (let i = 0; i < WARMUP; i++) await login(setup.proxy, i);
    const signsBefore = setup.signs();
    const timings: LoginTiming[] = [];
    for (let i = WARMUP; i < WARMUP + TOTAL; i++) timings.push(await login(setup.proxy, i));
    const signsPerLogin = (setup.signs() - signsBefore) / TOTAL;
    const totals = timings.map((t) => t.consoleMs + t.callbackMs);
    const row = [
      setup.name.padEnd(52),
      ms(
        percentile(
          timings.map((t) => t.consoleMs),
          50,
        ),
      ),
      ms(
        percentile(
          timings.map((t) => t.callbackMs),
          50,
        ),
      ),
      ms(percentile(totals, 50)),
      ms(percentile(totals, 95)),
      signsPerLogin.toFixed(2).padStart(10),
    ].join('  ');
    return { setup: setup.name, row, signsPerLogin };
  } finally {
    await setup.close();
  }
}

async function main(): Promise<void> {
  console.log(`GitHub login, server side (console + callback), ${TOTAL} logins after ${WARMUP} warm-up, one at a time; times in ms`);
  console.log(`  ${os.cpus().length} cores, load average ${os.loadavg()[0]!.toFixed(1)} at the start`);
  console.log(
    ['setup'.padEnd(52), 'console', 'callback', 'p50', 'p95', 'Sign/login']
      .map((h, i) => (i === 0 ? h : h.padStart(i === 5 ? 10 : 7)))
      .join('  '),
  );
  const results = [];
  for (const start of [bundledAuthWithKms, () => typescriptAuthWith('kms'), () => typescriptAuthWith('file')]) {
    const result = await measure(start);
    console.log(result.row);
    results.push(result);
  }
  const kmsSigns = Math.max(...results.filter((r) => r.setup.includes('KMS')).map((r) => r.signsPerLogin));
  console.log(
    `KMS quota: ${KMS_ECC_SIGN_QUOTA_PER_SECOND} ECC Sign/s per account and Region (default, adjustable) / ${kmsSigns.toFixed(2)} Sign per login (counted above) ` +
      `= ${(KMS_ECC_SIGN_QUOTA_PER_SECOND / kmsSigns).toFixed(0)} logins/s, shared with every other Sign in the account and Region (agent host certificates, CA rotation)`,
  );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
