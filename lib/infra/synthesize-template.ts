// The stack's CloudFormation template for a given CDK context, synthesized in this process as
// `cdk synth` would (the same context validation as bin/app.ts), with asset bundling skipped:
// pricing reads resource types and properties, never the functions' code. Works offline, with
// no AWS account, no esbuild run and no cdk.out.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { BUNDLING_STACKS } from 'aws-cdk-lib/cx-api';
import type { CloudFormationTemplate } from './idle-cost.js';
import { addKubeportStack } from './kubeport-app.js';

/** @throws StackContextError when the context is bad, as `cdk synth` would fail */
export function synthesizeTemplate(context: Record<string, string> = {}): CloudFormationTemplate {
  const outdir = mkdtempSync(join(tmpdir(), 'kubeport-synth-'));
  try {
    const app = new App({ outdir, context: { ...context, [BUNDLING_STACKS]: [] } });
    const stack = addKubeportStack(app);
    return app.synth().getStackArtifact(stack.artifactId).template as CloudFormationTemplate;
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}
