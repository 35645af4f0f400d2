// The scripted browser as a program, for $BROWSER in tests of the real tsh: walks the URL it is
// given and writes where it landed (JSON: url, status, body, hops) to the file in $LANDING_FILE.
import { renameSync, writeFileSync } from 'node:fs';
import { browse } from './scripted-browser.js';

const [url] = process.argv.slice(2);
const out = process.env.LANDING_FILE;
if (!url || !out) throw new Error('usage: LANDING_FILE=FILE scripted-browser-cli URL');
const landing = await browse(url).then(
  (l) => ({ url: l.url, status: l.status, body: l.body, hops: l.hops }),
  (error: Error) => ({ error: error.message }),
);
// Written aside and renamed, so a reader never sees half a file.
writeFileSync(`${out}.tmp`, JSON.stringify(landing));
renameSync(`${out}.tmp`, out);
