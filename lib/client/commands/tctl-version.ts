// tctl version: this tctl's version, offline (tctl status shows the server's).
import type { CommandDeps } from './deps.js';

export async function run(options: { version: string }, deps: Pick<CommandDeps, 'out'>): Promise<void> {
  deps.out.stdout.write(`Kubeport tctl v${options.version} node ${process.version}\n`);
}
