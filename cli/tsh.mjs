#!/usr/bin/env node
// The tsh command. kubectl runs `tsh kube credentials` on every invocation, so that path loads
// only the profile store, through tsx's require hook: it starts ~40% faster than the ESM loader,
// whose worker thread every other tsh command pays for.
import { createRequire } from 'node:module';

const [command, subcommand] = process.argv.slice(2);
if (command === 'kube' && subcommand === 'credentials') {
  const require = createRequire(import.meta.url);
  require('tsx/cjs/api').register();
  const { kubeCredentials } = require('../lib/client/kube-credentials.ts');
  try {
    process.stdout.write(kubeCredentials(process.argv.slice(4), process.env));
  } catch (error) {
    process.stderr.write(`tsh: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  }
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../bin/tsh.ts');
}
