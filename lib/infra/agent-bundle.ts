// The agent's bundle: what agent/Dockerfile's build stage writes and its runtime stage runs.
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { bundleForNode } from './lambda-bundles.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The agent's entry point (`npm run agent`), relative to the repository root. */
export const AGENT_ENTRY = 'agent/main.ts';
export const AGENT_BUNDLE_FILE = 'agent.mjs';

/** Writes `outDir/agent.mjs` (and its map); returns its path. */
export async function buildAgentBundle(outDir: string, entry: string = join(ROOT, AGENT_ENTRY)): Promise<string> {
  return bundleForNode(entry, join(outDir, AGENT_BUNDLE_FILE));
}
