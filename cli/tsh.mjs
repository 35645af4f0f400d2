#!/usr/bin/env node
// The tsh command, run through tsx's require hook: it starts ~40% faster than the ESM loader
// and its worker thread. kubectl runs `tsh kube credentials` on every invocation, so that path
// loads only the profile store: no flag library, no HTTP client.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
require('tsx/cjs/api').register();
const [command, subcommand] = process.argv.slice(2);
if (command === 'kube' && subcommand === 'credentials') {
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
  require('../bin/tsh.ts');
}
