// tctl's one configuration schema: its global flags, read and checked once, every problem named
// with its flag. The data directory's default is declared once, with the identity's file name.
import { resolve } from 'node:path';
import { ADMIN_IDENTITY_FILE, DEFAULT_DATA_DIR } from './local-data-dir.js';
import { Problems, normalizeProxy } from './tsh-config.js';

export { DEFAULT_DATA_DIR };

/** tctl's global flags as commander hands them over. */
export interface RawTctlFlags {
  dataDir?: string;
  identity?: string;
  proxy?: string;
}

export interface TctlConfig {
  /** The admin identity tctl signs with: --identity, else the one npm start wrote into --data-dir. */
  identityPath: string;
  /** Set when the identity comes from the data directory (it names the directory in messages). */
  dataDir?: string;
  /** --proxy, else the address the identity file names. */
  proxy?: string;
}

export function tctlConfig(raw: RawTctlFlags): TctlConfig {
  const problems = new Problems();
  if (raw.identity !== undefined && raw.identity.trim() === '') problems.add('--identity is empty');
  if (raw.dataDir !== undefined && raw.dataDir.trim() === '') problems.add('--data-dir is empty');
  const proxy = raw.proxy === undefined ? undefined : problems.check(() => normalizeProxy(raw.proxy!));
  problems.throwIfAny();
  const dataDir = resolve(raw.dataDir ?? DEFAULT_DATA_DIR);
  return {
    ...(raw.identity ? { identityPath: resolve(raw.identity) } : { identityPath: resolve(dataDir, ADMIN_IDENTITY_FILE), dataDir }),
    ...(proxy ? { proxy } : {}),
  };
}

/** A comma-separated list flag (--roles, --kubernetes-groups): trimmed, empty items dropped. */
export const listFlag = (value: string | undefined) =>
  value
    ? value
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== '')
    : [];
