// Headless GitHub login (GitHub's device flow): the API asks GitHub for a code and polls GitHub
// itself, so GitHub's token never reaches this machine. tsh shows where to go and the code, then
// asks the API at the interval it names (a later, longer interval wins) until the person has
// approved, the code expires, or Ctrl-C. A countdown shows the time left: redrawn in place at a
// terminal, a line a minute otherwise (logs, CI).
import type { ApiClient } from './api-client.js';
import { ClientError } from './api-client.js';
import { cliCommand } from './command-hint.js';
import type { TshDeps } from './commands/deps.js';
import { waitForPerson } from './login-wait.js';
import type { KeyPair, LoginResponse } from './login.js';
import { terminalSafe } from './terminal-text.js';

export interface HeadlessLoginOptions {
  connector: { name: string; display: string };
  ttlSeconds?: number;
}

interface DeviceStart {
  request_id: string;
  user_code: string;
  verification_uri: string;
  expires_in: number;
  interval: number;
}

type PollAnswer = { status: 'pending'; interval?: number } | { status: 'done'; login: LoginResponse };

const TICK_MS = 1000;
const LINE_EVERY_MS = 60_000;
/** GitHub's own default when an answer names none. */
const DEFAULT_INTERVAL_S = 5;

export const clockFace = (ms: number) => {
  const seconds = Math.max(0, Math.ceil(ms / 1000));
  return `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, '0')}`;
};

function checkStart(answer: Partial<DeviceStart>): DeviceStart {
  const ok =
    typeof answer.request_id === 'string' &&
    typeof answer.user_code === 'string' &&
    typeof answer.verification_uri === 'string' &&
    /^https?:\/\/\S+$/.test(answer.verification_uri) &&
    typeof answer.expires_in === 'number' &&
    answer.expires_in > 0;
  if (!ok)
    throw new ClientError(
      'the proxy answered the headless login request without a code and a page to enter it; is --proxy a Kubeport proxy?',
    );
  return { ...(answer as DeviceStart), interval: answer.interval && answer.interval > 0 ? answer.interval : DEFAULT_INTERVAL_S };
}

export async function headlessLogin(deps: TshDeps, api: ApiClient, keys: KeyPair, options: HeadlessLoginOptions): Promise<LoginResponse> {
  const start = checkStart(
    await api.call<Partial<DeviceStart>>('POST', '/webapi/github/login/headless', {
      connector_id: options.connector.name,
      public_key: keys.publicKeyPem,
      ...(options.ttlSeconds ? { ttl_seconds: options.ttlSeconds } : {}),
    }),
  );
  const stderr = deps.out.stderr;
  stderr.write(
    `To log in with ${options.connector.display}, open this page on any device:\n\n  ${start.verification_uri}\n\n` +
      `and enter the code:\n\n  ${terminalSafe(start.user_code)}\n\n`,
  );
  const expiresAt = deps.clock.now().getTime() + start.expires_in * 1000;
  const countdown = new Countdown(deps, expiresAt);
  const again = `run ${cliCommand('tsh')} login --headless again`;
  try {
    return await waitForPerson(
      deps.waits,
      // No timer of its own: the loop below watches the code's expiry on the clock.
      { interrupted: 'login cancelled (Ctrl-C); nothing was saved' },
      async (signal) => {
        let interval = start.interval;
        for (;;) {
          countdown.show();
          // Sleeps in ticks so the countdown moves; stops early on Ctrl-C.
          const due = deps.clock.now().getTime() + interval * 1000;
          while (!signal.aborted && deps.clock.now().getTime() < due) {
            await deps.waits.sleep(Math.min(TICK_MS, due - deps.clock.now().getTime()), signal);
            countdown.show();
          }
          if (signal.aborted) throw signal.reason as Error;
          if (deps.clock.now().getTime() >= expiresAt)
            throw new ClientError(`the code ${start.user_code} expired before it was approved; ${again}`);
          const answer = await api.call<PollAnswer>('POST', '/webapi/github/login/headless/poll', { request_id: start.request_id });
          if (answer.status === 'done') return answer.login;
          if (answer.status !== 'pending')
            throw new ClientError('the proxy answered the headless login poll with something tsh does not know');
          // GitHub's slow_down raises the interval for the rest of the flow; never go faster than told.
          if (typeof answer.interval === 'number' && answer.interval > interval) interval = answer.interval;
        }
      },
    );
  } finally {
    countdown.end();
  }
}

/** "Waiting for approval: 14:32 left" — one line redrawn at a terminal, a line a minute elsewhere. */
class Countdown {
  private lastLine = -Infinity;
  private drawn = false;

  constructor(
    private readonly deps: Pick<TshDeps, 'out' | 'clock'>,
    private readonly expiresAt: number,
  ) {}

  show(): void {
    const now = this.deps.clock.now().getTime();
    // At 0:00 the expiry message follows at once; a countdown line would only repeat it.
    if (now >= this.expiresAt) return;
    const text = `Waiting for approval: the code expires in ${clockFace(this.expiresAt - now)} (Ctrl-C cancels)`;
    if (this.deps.out.stderr.isTTY) {
      this.deps.out.stderr.write(`\r\x1b[K${text}`);
      this.drawn = true;
    } else if (now - this.lastLine >= LINE_EVERY_MS) {
      this.deps.out.stderr.write(`${text}\n`);
      this.lastLine = now;
    }
  }

  /** Leaves the cursor on a fresh line for whatever tsh prints next. */
  end(): void {
    if (this.drawn) this.deps.out.stderr.write('\n');
    this.drawn = false;
  }
}
