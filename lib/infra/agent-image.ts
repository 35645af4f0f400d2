// The agent's container image, built from agent/Dockerfile by the CDK asset at deploy (synth only
// fingerprints the build context that .dockerignore leaves: package files, agent/, lib/ and the
// bundling script). ARM64 on demand; X86_64 for Fargate Spot, which has no ARM64 capacity.
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { IgnoreMode } from 'aws-cdk-lib';
import { Platform } from 'aws-cdk-lib/aws-ecr-assets';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import type { AgentCapacity } from './stack-context.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const AGENT_DOCKERFILE = 'agent/Dockerfile';

export function agentCpuArchitecture(capacity: AgentCapacity): ecs.CpuArchitecture {
  return capacity === 'spot' ? ecs.CpuArchitecture.X86_64 : ecs.CpuArchitecture.ARM64;
}

export function agentImage(capacity: AgentCapacity): ecs.ContainerImage {
  return ecs.ContainerImage.fromAsset(ROOT, {
    file: AGENT_DOCKERFILE,
    platform: capacity === 'spot' ? Platform.LINUX_AMD64 : Platform.LINUX_ARM64,
    ignoreMode: IgnoreMode.DOCKER,
  });
}
