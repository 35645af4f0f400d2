#!/usr/bin/env node
// Keeps lib/core pure: no AWS SDK, CDK, network, filesystem, child processes or process.env.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

const forbidden = [
  /from ['"](@aws-sdk\/[^'"]*|@smithy\/[^'"]*|aws-cdk-lib[^'"]*)['"]/,
  /from ['"](node:)?(http|https|http2|net|tls|dgram|dns|fs|fs\/promises|child_process)['"]/,
  /from ['"]\.\.\/(adapters|infra|services|client)\//,
  /process\.env/,
];

function* files(dir) {
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) yield* files(path);
    else if (path.endsWith('.ts')) yield path;
  }
}

let problems = 0;
for (const file of files('lib/core')) {
  const lines = readFileSync(file, 'utf8').split('\n');
  lines.forEach((line, index) => {
    if (forbidden.some((rule) => rule.test(line))) {
      problems++;
      console.error(`${file}:${index + 1}: lib/core must stay pure: ${line.trim()}`);
    }
  });
}
if (problems > 0) process.exit(1);
console.log('lib/core imports: ok');
