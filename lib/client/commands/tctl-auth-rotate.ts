// tctl auth rotate: one phase of a CA rotation (--phase), or an automatic one (--manual=false,
// every phase on a schedule of --grace-period). Prints where the CA stands and what comes next.
import { ROTATION_PHASES } from '../../core/cert-authority-resource.js';
import { badRequest } from '../../core/errors.js';
import { parseDuration } from '../../core/duration.js';
import type { CaStatus } from '../../services/cert-authorities.js';
import type { TctlDeps } from './deps.js';

export interface RotateOptions {
  type?: string;
  phase?: string;
  manual?: string;
  gracePeriod?: string;
}

const nextPhase: Record<string, string | undefined> = {
  init: 'update_clients',
  update_clients: 'update_servers',
  update_servers: 'standby',
};

export async function run(options: RotateOptions, deps: TctlDeps): Promise<void> {
  const body = rotateBody(options);
  const client = await deps.admin();
  const { cas } = await client.call<{ cas: CaStatus[] }>('POST', '/webapi/ca/rotate', body);
  const ca = cas.find((c) => c.type === body.type)!;
  const lines = [`The ${ca.type} CA is in phase ${ca.phase}; ${ca.signing} signs.`];
  const next = nextPhase[ca.phase];
  if (ca.next_phase) lines.push(`It moves to ${ca.next_phase.phase} at ${ca.next_phase.at} on its own; tctl status shows where it is.`);
  else if (next) lines.push(`Next: tctl auth rotate --type=${ca.type} --phase=${next}`);
  // tsh fetches the CAs every few minutes when it runs; kubeconfigs must hold the new host CA
  // before the agent presents a certificate from it.
  if (ca.phase === 'update_clients' && !ca.next_phase)
    lines.push('Give clients a few minutes to fetch the new CA (each tsh command does) first.');
  if (ca.old_key_retires) lines.push(`The old key stays trusted until ${ca.old_key_retires}, then retires.`);
  deps.out.stdout.write(lines.join('\n') + '\n');
}

function rotateBody(options: RotateOptions) {
  if (options.type !== 'user' && options.type !== 'host') throw badRequest('give --type=user or --type=host');
  if (options.manual !== undefined && options.manual !== 'true' && options.manual !== 'false') {
    throw badRequest(`--manual takes true or false, not "${options.manual}"`);
  }
  const manual = options.manual !== 'false';
  if (manual && options.phase === undefined) {
    throw badRequest(`give --phase=init|update_clients|update_servers|standby, or --manual=false to run every phase at once`);
  }
  if (options.phase !== undefined && !(ROTATION_PHASES as readonly string[]).includes(options.phase)) {
    throw badRequest(`--phase takes ${ROTATION_PHASES.join(', ')}, not "${options.phase}"`);
  }
  if (manual && options.gracePeriod !== undefined) throw badRequest('--grace-period goes with --manual=false');
  return {
    type: options.type,
    manual,
    ...(options.phase !== undefined ? { phase: options.phase } : {}),
    ...(options.gracePeriod !== undefined ? { grace_period_seconds: Math.ceil(parseDuration(options.gracePeriod) / 1000) } : {}),
  };
}
