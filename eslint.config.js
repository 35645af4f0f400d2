// npm run lint: typescript-eslint's recommended rules and the layering of the code base.
// Layers import downward only: core <- services <- (adapters, agent, lambdas, client) <- app, bin.
// platform is a small node-only layer (safe files) beside services, for everything above it;
// demo is the Kubernetes API stand-in, served by the app; nothing outside test/ imports test/.
import { defineConfig } from 'eslint/config';
import tseslint from 'typescript-eslint';

/** Top-level folders that a relative import can name, each a layer. */
const LAYERS = [
  'core',
  'services',
  'platform',
  'spdy',
  'adapters',
  'client',
  'agent',
  'lambdas',
  'infra',
  'demo',
  'app',
  'bin',
  'bench',
  'cli',
  'test',
];

/** What each layer may import, besides itself. */
const rules = [
  { files: ['lib/core/**'], may: [], pure: true },
  { files: ['lib/services/**'], may: ['core'], pure: true },
  { files: ['lib/platform/**'], may: ['core'] },
  // SPDY/3.1 framing (node:zlib, node:stream): the stand-in serves it, the agent observes it.
  { files: ['lib/spdy/**'], may: [] },
  { files: ['lib/adapters/**'], may: ['core', 'services', 'platform'] },
  { files: ['lib/client/**'], may: ['core', 'services', 'platform'] },
  { files: ['agent/**'], may: ['core', 'services', 'platform', 'spdy'] },
  { files: ['lambdas/**'], may: ['core', 'services', 'platform'] },
  // The demo cluster is run by the app as its own process; it mints its TLS material with the
  // local CA adapter.
  { files: ['lib/demo/**'], may: ['core', 'platform', 'adapters', 'spdy'] },
  { files: ['lib/infra/**'], may: ['core', 'platform', 'adapters'] },
  { files: ['lib/app/**', 'bin/**', 'cli/**'], may: LAYERS.filter((layer) => layer !== 'test') },
  // The agent's entry point (npm run agent, the container's command) is the agent's composition
  // root: it builds the agent from the app layer, as cli/ does for local mode. Nothing imports it.
  { files: ['agent/main.ts'], may: LAYERS.filter((layer) => layer !== 'test') },
  // Benchmarks drive the product from outside, as the end-to-end tests do, with the same drivers
  // (test/support/cli.ts, local-mode-process.ts); no product code imports them.
  { files: ['bench/**'], may: LAYERS },
];

// Modules that do I/O or tie the code to AWS: the domain and the use cases reach them through ports.
const IMPURE_MODULES =
  '^(node:)?(http|https|http2|net|tls|dgram|dns|fs|fs/promises|child_process|cluster|worker_threads)$|^(@aws-sdk|@smithy)/|^(aws-cdk-lib|constructs)(/|$)';

function layerRule({ files, may, pure }) {
  const own = files[0].replace(/^lib\//, '').split('/')[0];
  const forbidden = LAYERS.filter((layer) => layer !== own && !may.includes(layer));
  const patterns = [];
  const syntax = [];
  for (const layer of forbidden) {
    const regex = `^\\.{1,2}/(.*/)?${layer}/`;
    const message =
      layer === 'test'
        ? 'nothing outside test/ imports test/; move what the product needs into lib/'
        : `${own} must not import ${layer}: layers import downward only (core <- services <- adapters, agent, lambdas, client <- app, bin; see eslint.config.js)`;
    patterns.push({ regex, message });
    syntax.push({ selector: `ImportExpression[source.value=/${regex.replaceAll('/', '\\/')}/]`, message });
  }
  // A named import of zod's namespace (`import { z } from 'zod'`) defeats esbuild's tree shaking:
  // every Lambda bundle would carry all of zod and its locales (some 350 KiB more per function).
  syntax.push({
    selector: "ImportDeclaration[source.value='zod'] > ImportSpecifier",
    message: "import * as z from 'zod' (a named import pulls all of zod and its locales into the Lambda bundles)",
  });
  if (pure) {
    patterns.push({
      regex: IMPURE_MODULES,
      message: `${own} stays pure: no I/O, no AWS SDK or CDK; put the code in an adapter behind a port`,
    });
    syntax.push({
      selector: "MemberExpression[object.name='process'][property.name='env']",
      message: `${own} never reads process.env; configuration is parsed once at the edge and passed in`,
    });
  }
  return { files, rules: { 'no-restricted-imports': ['error', { patterns }], 'no-restricted-syntax': ['error', ...syntax] } };
}

export default defineConfig(
  { ignores: ['node_modules/**', 'cdk.out/**', '**/*.d.ts'] },
  tseslint.configs.recommended,
  rules.map(layerRule),
);
