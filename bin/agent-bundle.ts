// Bundles the agent (agent/main.ts) into one ES module for the container image:
// `node cli/run-ts.mjs bin/agent-bundle.ts OUT_DIR` writes OUT_DIR/agent.mjs and its source map,
// and prints the bundle's size. agent/Dockerfile runs it in its build stage.
import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { AGENT_ENTRY, buildAgentBundle } from '../lib/infra/agent-bundle.js';

const outDir = resolve(process.argv[2] ?? 'dist/agent');
const outfile = await buildAgentBundle(outDir);
const kib = (path: string) => (statSync(path).size / 1024).toFixed(0);
console.log(`${AGENT_ENTRY} -> ${outfile}: ${kib(outfile)} KiB (source map ${kib(`${outfile}.map`)} KiB)`);
