// tsh logout: removes exactly this login's keys and kubeconfig entries; other profiles stay.
import { removeEntries, withKubeconfig } from '../kubeconfig-editor.js';
import type { TshDeps } from './deps.js';

export interface LogoutOptions {
  proxy?: string;
}

export async function run(options: LogoutOptions, deps: TshDeps): Promise<void> {
  const proxy = options.proxy ?? deps.store.current();
  if (!proxy) {
    deps.out.stdout.write('Not logged in.\n');
    return;
  }
  const removed = await withKubeconfig(deps.config.kubeconfig, (config) => removeEntries(config, proxy));
  deps.store.remove(proxy);
  deps.out.stdout.write(`Logged out of ${proxy}${removed.length ? `; removed kubeconfig entries ${removed.join(', ')}` : ''}.\n`);
}
