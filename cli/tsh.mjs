#!/usr/bin/env node
// The tsh command. kubectl runs `tsh kube credentials` on every invocation, so that path loads
// only the profile store, through tsx's require hook: it starts ~40% faster than the ESM loader,
// whose worker thread every other tsh command pays for.
import { createRequire } from 'node:module';

const [command, subcommand] = process.argv.slice(2);
if (command === 'kube' && subcommand === 'credentials') {
  const require = createRequire(import.meta.url);
  require('tsx/cjs/api').register();
  const { reportFailure } = require('../lib/client/run-command.ts');
  try {
    const { optionsFrom, run } = require('../lib/client/commands/kube-credentials.ts');
    const { tshConfig } = require('../lib/client/tsh-config.ts');
    const { ProfileStore } = require('../lib/client/profile-store.ts');
    const store = new ProfileStore(tshConfig(process.env).home);
    run(optionsFrom(process.argv.slice(4)), { store, clock: { now: () => new Date() }, out: process });
  } catch (error) {
    process.exitCode = reportFailure('tsh', error, process.stderr);
  }
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../bin/tsh.ts');
}
