// tsh version: which Kubeport and which Node.js run here, one line, as a bug report needs it.
import { createRequire } from 'node:module';
import type { Output } from './deps.js';

export function version(): string {
  return (createRequire(import.meta.url)('../../../package.json') as { version: string }).version;
}

export function run(deps: { out: Output }): void {
  deps.out.stdout.write(`Kubeport tsh v${version()} node ${process.version}\n`);
}
