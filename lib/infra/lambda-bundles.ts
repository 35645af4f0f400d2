// How each function is bundled, in one place: the stack's NodejsFunction and the tests and
// benchmarks that run the built bundles use the same entries and esbuild settings, so what is
// tested is what is deployed.
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { build } from 'esbuild';
import { type BundlingOptions, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Each function's entry point (a composition root in lib/app/functions), relative to the repository root. */
export const LAMBDA_ENTRIES = {
  auth: 'lib/app/functions/auth-function.ts',
  admin: 'lib/app/functions/admin-function.ts',
  caBootstrap: 'lib/app/functions/ca-bootstrap-function.ts',
} as const;

export type LambdaName = keyof typeof LAMBDA_ENTRIES;

/** Node 22 on Lambda, ES modules; `require` for the few CommonJS dependencies that call it. */
const TARGET = 'node22';
const BANNER = "import { createRequire as __kubeportRequire } from 'node:module'; const require = __kubeportRequire(import.meta.url);";
const MAIN_FIELDS = ['module', 'main'];
/**
 * The default credential chain's providers, each loaded by a dynamic import only when the ones
 * before it found nothing. The functions give every client environment credentials (Lambda sets
 * them for the role; lib/app/aws-services.ts), so the chain never runs and these are never loaded:
 * left out, they take their SSO, STS and sign-in clients with them (about a fifth of a bundle).
 */
const UNUSED_CREDENTIAL_PROVIDERS = [
  '@aws-sdk/credential-provider-sso',
  '@aws-sdk/credential-provider-ini',
  '@aws-sdk/credential-provider-process',
  '@aws-sdk/credential-provider-web-identity',
  '@aws-sdk/credential-provider-http',
  '@smithy/credential-provider-imds',
];

/** What NodejsFunction is given: everything bundled (the SDK clients too, pinned and tree-shaken), minified, with source maps. */
export function nodejsBundling(): BundlingOptions {
  return {
    target: TARGET,
    format: OutputFormat.ESM,
    minify: true,
    sourceMap: true,
    mainFields: MAIN_FIELDS,
    banner: BANNER,
    externalModules: UNUSED_CREDENTIAL_PROVIDERS,
  };
}

export function lambdaEntryPath(name: LambdaName): string {
  return join(ROOT, LAMBDA_ENTRIES[name]);
}

/** Builds one function's bundle as NodejsFunction does (`index.mjs` + map in `outDir`); returns the bundle's path. */
export async function buildLambdaBundle(name: LambdaName, outDir: string): Promise<string> {
  return bundleForNode(lambdaEntryPath(name), join(outDir, 'index.mjs'), { external: UNUSED_CREDENTIAL_PROVIDERS });
}

export interface NodeBundleOptions {
  /** Modules left out of the bundle (never loaded at run time). */
  readonly external?: readonly string[];
}

/**
 * One ES module for Node 22, everything bundled and minified, with its source map beside it: the
 * functions' bundles and the agent's (whose default credential chain must keep every provider, as
 * on Fargate credentials come from the container endpoint). Returns `outfile`.
 */
export async function bundleForNode(entry: string, outfile: string, options: NodeBundleOptions = {}): Promise<string> {
  await build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node',
    target: TARGET,
    format: 'esm',
    minify: true,
    sourcemap: true,
    mainFields: MAIN_FIELDS,
    banner: { js: BANNER },
    external: [...(options.external ?? [])],
    logLevel: 'warning',
  });
  return outfile;
}
