// A $BROWSER for tests of the real tsh: a shell script that records the URL it is given and walks
// it with the scripted browser (scripted-browser-cli.ts), which writes where it landed.
import { chmodSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from './cli.js';

export interface BrowserScript {
  /** The program to put in $BROWSER. */
  path: string;
  /** The URL the script was started with. */
  argument(): Promise<string>;
  /** Where the scripted browser landed: the page's URL and body, or the error that stopped it. */
  landing(): Promise<{ url?: string; body?: string; error?: string }>;
}

async function waitForFile(path: string, timeoutMs = 20_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  while (!existsSync(path)) {
    if (Date.now() > deadline) throw new Error(`${path} was never written`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return readFileSync(path, 'utf8');
}

export function browserScript(): BrowserScript {
  const dir = mkdtempSync(join(tmpdir(), 'kubeport-browser-'));
  const record = join(dir, 'argument');
  const landingFile = join(dir, 'landing.json');
  const path = join(dir, 'browser');
  writeFileSync(
    path,
    [
      '#!/bin/sh',
      // Written aside and renamed, so a reader never sees half a file.
      `printf '%s' "$1" > '${record}.tmp' && mv '${record}.tmp' '${record}'`,
      `LANDING_FILE='${landingFile}' exec '${process.execPath}' '${repoRoot}cli/run-ts.mjs' '${repoRoot}test/support/scripted-browser-cli.ts' "$1"`,
      '',
    ].join('\n'),
  );
  chmodSync(path, 0o755);
  return {
    path,
    argument: () => waitForFile(record),
    landing: async () => JSON.parse(await waitForFile(landingFile)) as { url?: string; body?: string; error?: string },
  };
}
