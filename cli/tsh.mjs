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
    const { ProfileStore, casStale } = require('../lib/client/profile-store.ts');
    const config = tshConfig(process.env);
    home = config.home;
    const store = new ProfileStore(home);
    const clock = { now: () => new Date() };
    const options = optionsFrom(process.argv.slice(4));
    const { profile, keys } = run(options, { store, clock, out: process });
    // After the answer, and only every few minutes: the trusted CAs, for a CA rotation. The HTTP
    // client loads only then.
    if (casStale(profile, clock.now(), config.caRefreshMs)) {
      const { followCaRotation } = require('../lib/client/ca-refresh.ts');
      const { ApiClient } = require('../lib/client/api-client.ts');
      const api = (proxy, audience) => new ApiClient(proxy, audience, clock);
      followCaRotation({ api, store, clock, config }, profile, keys).catch(() => undefined);
      // kubectl waits for the plugin to exit: a proxy that does not answer holds it up 3 s at most
      // (files are replaced whole, so leaving mid-way leaves the old ones).
      setTimeout(() => process.exit(), 3_000).unref();
    }
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
