// `npm run agent`: what the agent's container runs. Configuration from the environment (one
// schema, lib/app/agent-environment.ts), then the agent on AWS (lib/app/agent-aws.ts). A bad
// variable or a failed start stops it with one line naming the cause and the fix; SIGTERM (ECS
// stopping the task) drains it for up to KUBEPORT_DRAIN_SECONDS, then it writes what it holds of
// the audit and exits 0. Every line goes to stdout, which ECS sends to CloudWatch Logs: none holds
// a token, key or secret.
import { AgentEnvironmentError, parseAgentEnvironment } from '../lib/app/agent-environment.js';
import { startAgentOnAws } from '../lib/app/agent-aws.js';
import { systemClock, systemRandom } from '../lib/adapters/system.js';

const log = (message: string) => process.stdout.write(`${new Date().toISOString()} ${oneLine(message)}\n`);
const fail = (message: string, code: number): never => {
  process.stderr.write(`kubeport agent: ${oneLine(message)}\n`);
  process.exit(code);
};

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ');
}

function configuration() {
  try {
    return parseAgentEnvironment(process.env);
  } catch (error) {
    if (!(error instanceof AgentEnvironmentError)) throw error;
    for (const problem of error.problems) process.stderr.write(`kubeport agent: bad configuration: ${oneLine(problem)}\n`);
    return process.exit(2);
  }
}

const config = configuration();

const agent = await startAgentOnAws(config, { env: process.env, clock: systemClock, random: systemRandom, log }).catch((error: unknown) =>
  fail(error instanceof Error ? error.message : String(error), 1),
);
log(
  `kubeport agent listening on ${agent.address.host}:${agent.address.port} as ${agent.role.principalArn}` +
    (agent.configured.length > 0 ? `; registered ${agent.configured.join(', ')}` : ''),
);

let stopping = false;
const stop = (signal: string) => {
  if (stopping) {
    // A second signal (Ctrl-C again by hand): open streams end now rather than at the deadline.
    log(`${signal} again: ending open streams now`);
    void agent.drain(0, log);
    return;
  }
  stopping = true;
  const drainMs = config.KUBEPORT_DRAIN_SECONDS * 1000;
  log(`${signal}: draining for up to ${config.KUBEPORT_DRAIN_SECONDS} s`);
  void agent
    .drain(drainMs, log)
    .then(() => agent.close())
    .then(
      () => {
        log('kubeport agent stopped');
        process.exit(0);
      },
      (error: unknown) => fail(`stopping failed: ${error instanceof Error ? error.message : String(error)}`, 1),
    );
};
process.on('SIGTERM', () => stop('SIGTERM'));
process.on('SIGINT', () => stop('SIGINT'));
