// Keeps the agent's TLS certificate fresh: a new one is asked for at AGENT_HOST_CERT_RENEW_FRACTION
// of the current one's lifetime and swapped in place (the HTTPS server's setSecureContext), so open
// connections keep the context they began with and new ones get the new certificate. A failure is
// logged and retried every minute; with a two-hour certificate renewed at one hour, an hour of
// failures passes before kubectl sees an expired certificate.
import { AGENT_HOST_CERT_RENEW_FRACTION } from '../core/agent-host-certificate.js';
import type { Clock } from '../core/ports.js';

/** How the renewal waits: the global timers by default, a test's own to move time by hand. */
export interface RenewalTimers {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface CertificateValidity {
  notBefore: Date;
  notAfter: Date;
}

export interface CertificateRenewalOptions<T extends CertificateValidity> {
  /** Gets a new certificate (the agent: the host-cert route). */
  fetch(): Promise<T>;
  /** Puts it in place; a throw counts as a failed renewal. */
  install(material: T): void | Promise<void>;
  clock: Clock;
  log(message: string): void;
  /** @default the global timers, unref'd: a pending renewal never keeps the process alive */
  timers?: RenewalTimers;
  /** @default AGENT_HOST_CERT_RENEW_FRACTION */
  renewFraction?: number;
  /** @default one minute */
  retryMs?: number;
}

export const RENEWAL_RETRY_MS = 60_000;

const globalTimers: RenewalTimers = {
  setTimeout: (callback, ms) => {
    const handle = setTimeout(callback, ms);
    handle.unref();
    return handle;
  },
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

/** When a certificate valid over [notBefore, notAfter] is renewed. */
export function renewalTime(validity: CertificateValidity, fraction: number = AGENT_HOST_CERT_RENEW_FRACTION): Date {
  const start = validity.notBefore.getTime();
  return new Date(start + (validity.notAfter.getTime() - start) * fraction);
}

export class CertificateRenewal<T extends CertificateValidity> {
  private timer: unknown;
  private stopped = false;
  private current: T;
  private readonly timers: RenewalTimers;

  /** Starts renewing `initial`, the certificate in place now. */
  constructor(
    private readonly options: CertificateRenewalOptions<T>,
    initial: T,
  ) {
    this.timers = options.timers ?? globalTimers;
    this.current = initial;
    this.scheduleAt(renewalTime(initial, options.renewFraction));
  }

  /** The certificate in place now. */
  get certificate(): T {
    return this.current;
  }

  /** No more renewals; one under way finishes without installing. */
  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) this.timers.clearTimeout(this.timer);
    this.timer = undefined;
  }

  private scheduleAt(when: Date): void {
    this.schedule(Math.max(0, when.getTime() - this.options.clock.now().getTime()));
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = this.timers.setTimeout(() => void this.renew(), delayMs);
  }

  private async renew(): Promise<void> {
    this.timer = undefined;
    const retryMs = this.options.retryMs ?? RENEWAL_RETRY_MS;
    try {
      const next = await this.options.fetch();
      if (this.stopped) return;
      await this.options.install(next);
      this.current = next;
      this.options.log(`agent certificate renewed; valid until ${next.notAfter.toISOString()}`);
      this.scheduleAt(renewalTime(next, this.options.renewFraction));
    } catch (error) {
      if (this.stopped) return;
      const left = this.current.notAfter.getTime() - this.options.clock.now().getTime();
      this.options.log(
        `agent certificate renewal failed (${error instanceof Error ? error.message : String(error)}); ` +
          `retrying in ${Math.round(retryMs / 1000)}s; the current one ${left > 0 ? `expires in ${Math.round(left / 60_000)} min` : 'has EXPIRED'}`,
      );
      this.schedule(retryMs);
    }
  }
}
