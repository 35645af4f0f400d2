// How to name tsh and tctl in anything Kubeport prints, so the user can paste it as written:
//   1. `tsh` when the `tsh` on PATH is this package's launcher (after `npm install -g .` or `npm link`);
//   2. `npx tsh` when the working directory is inside this package (npx finds the package's own
//      bin there; anywhere else it would ask the npm registry for an unrelated package);
//   3. else the absolute path of the launcher, which runs from any directory.
// The kubeconfig's exec plugin follows the same rule without the npx step: `tsh` when on PATH
// (so a later move of the clone only needs `npm install -g .` again), else node and the launcher's path.
import { accessSync, constants, realpathSync } from 'node:fs';
import { delimiter, join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

export type CliName = 'tsh' | 'tctl';

const packageRoot = fileURLToPath(new URL('../../', import.meta.url)).replace(/[\\/]$/, '');

function realpath(path: string): string | undefined {
  try {
    return realpathSync(path);
  } catch {
    return undefined;
  }
}

/** The launcher this package runs as `name`, its symlinks resolved. */
export function launcherPath(name: CliName): string {
  const path = join(packageRoot, 'cli', `${name}.mjs`);
  return realpath(path) ?? path;
}

/** The first executable `name` on PATH, its symlinks resolved; undefined when there is none. */
function onPath(name: string, env: NodeJS.ProcessEnv): string | undefined {
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    // npx and npm run put node_modules/.bin folders (npx's under its _npx cache) on PATH for one
    // run only: a tsh found there is gone in the next shell, so it does not count as installed.
    if (dir === '' || transientBinDir(dir)) continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
    } catch {
      continue;
    }
    return realpath(candidate);
  }
  return undefined;
}

function transientBinDir(dir: string): boolean {
  const normalized = dir.replace(/[\\/]+$/, '');
  return normalized.includes(`${sep}_npx${sep}`) || normalized.endsWith(`${sep}node_modules${sep}.bin`);
}

/** True when `name` on PATH runs this very package's launcher. */
export function installedOnPath(name: CliName, env: NodeJS.ProcessEnv = process.env): boolean {
  return onPath(name, env) === launcherPath(name);
}

function insidePackage(cwd: string): boolean {
  const root = realpath(packageRoot) ?? packageRoot;
  const here = realpath(cwd) ?? cwd;
  return here === root || here.startsWith(root + sep);
}

/** The words to print for running `name` here: 'tsh', 'npx tsh' or the launcher's absolute path. */
export function cliCommand(name: CliName, env: NodeJS.ProcessEnv = process.env, cwd: string = process.cwd()): string {
  if (installedOnPath(name, env)) return name;
  if (insidePackage(cwd)) return `npx ${name}`;
  return launcherPath(name);
}

/** How kubectl should start `tsh kube credentials`: a program and the arguments before the command's own. */
export function execPluginCommand(
  env: NodeJS.ProcessEnv = process.env,
  node: string = process.execPath,
): { command: string; args: string[] } {
  if (installedOnPath('tsh', env)) return { command: 'tsh', args: [] };
  return { command: node, args: [launcherPath('tsh')] };
}
