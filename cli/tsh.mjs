#!/usr/bin/env node
// The tsh command, run through tsx's require hook: it starts ~40% faster than the ESM loader
// and its worker thread. kubectl runs `tsh kube credentials` on every invocation, so that path
// loads only the profile store: no flag library, no HTTP client. Node runs this file from its
// real path, so it works through the symlink a global install puts on PATH, from any directory.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
require('tsx/cjs/api').register();
const [command, subcommand] = process.argv.slice(2);
if (command === 'kube' && subcommand === 'credentials') {
  const { endQuietlyWhenStdoutCloses, reportFailure } = require('../lib/client/run-command.ts');
  endQuietlyWhenStdoutCloses();
  const { KubeportError } = require('../lib/core/errors.ts');
  let home;
  try {
    const { optionsFrom, run } = require('../lib/client/commands/kube-credentials.ts');
    const { tshConfig } = require('../lib/client/tsh-config.ts');
    const { ProfileStore } = require('../lib/client/profile-store.ts');
    home = tshConfig(process.env).home;
    const store = new ProfileStore(home);
    run(optionsFrom(process.argv.slice(4)), { store, clock: { now: () => new Date() }, out: process });
  } catch (error) {
    // kubectl runs the plugin again on each of its retries and shows what it writes each time:
    // a user's error (an expired login) is told once per kubectl command.
    const { firstNotice } = require('../lib/client/plugin-notice.ts');
    const quiet = error instanceof KubeportError && home !== undefined && !firstNotice(home, process.ppid, new Date());
    process.exitCode = reportFailure('tsh', error, quiet ? { write: () => true } : process.stderr);
  }
} else {
  require('../bin/tsh.ts');
}
