// The agent's certificate renewal with a hand-moved clock and timers: renewed at half its life and
// swapped in place, retried every minute while the route fails, stopped for good by stop().
import { describe, expect, it } from 'vitest';
import { AGENT_HOST_CERT_TTL_MS } from '../../lib/core/agent-host-certificate.js';
import { CertificateRenewal, type RenewalTimers, renewalTime } from '../../lib/services/agent-certificate-renewal.js';

interface Material {
  serial: number;
  notBefore: Date;
  notAfter: Date;
}

/** Timers that fire only when the test moves the clock past them. */
function manualTime(start: Date) {
  let now = start.getTime();
  const pending = new Map<number, { at: number; callback: () => void }>();
  let next = 1;
  const timers: RenewalTimers = {
    setTimeout: (callback, ms) => {
      const id = next++;
      pending.set(id, { at: now + ms, callback });
      return id;
    },
    clearTimeout: (handle) => pending.delete(handle as number),
  };
  // Lets the renewal's promise chain (fetch, install, schedule) run to its end.
  const settle = async () => {
    for (let i = 0; i < 10; i++) await new Promise((resolve) => setImmediate(resolve));
  };
  return {
    clock: { now: () => new Date(now) },
    timers,
    pending,
    /** Moves the clock by `ms`, firing each timer due on the way, in order. */
    async advance(ms: number) {
      const end = now + ms;
      for (;;) {
        const due = [...pending.entries()].filter(([, t]) => t.at <= end).sort((a, b) => a[1].at - b[1].at)[0];
        if (!due) break;
        pending.delete(due[0]);
        now = due[1].at;
        due[1].callback();
        await settle();
      }
      now = end;
    },
  };
}

describe('agent certificate renewal', () => {
  const start = new Date('2026-12-03T03:00:00Z');
  const material = (serial: number, from: Date): Material => ({
    serial,
    notBefore: from,
    notAfter: new Date(from.getTime() + AGENT_HOST_CERT_TTL_MS),
  });

  it('renews at half the lifetime and swaps in place, then again at half of the new one', async () => {
    const time = manualTime(start);
    const installed: number[] = [];
    let serial = 1;
    const renewal = new CertificateRenewal<Material>(
      {
        fetch: async () => material(++serial, time.clock.now()),
        install: (m) => void installed.push(m.serial),
        clock: time.clock,
        timers: time.timers,
        log: () => undefined,
      },
      material(1, start),
    );
    expect(renewalTime(material(1, start))).toEqual(new Date(start.getTime() + AGENT_HOST_CERT_TTL_MS / 2));
    await time.advance(AGENT_HOST_CERT_TTL_MS / 2 - 1);
    expect(installed).toEqual([]);
    await time.advance(1);
    expect(installed).toEqual([2]);
    expect(renewal.certificate.serial).toBe(2);
    await time.advance(AGENT_HOST_CERT_TTL_MS / 2);
    expect(installed).toEqual([2, 3]);
    renewal.stop();
    expect(time.pending.size).toBe(0);
  });

  it('retries every minute while the route fails, logging what is left, and renews as soon as it answers', async () => {
    const time = manualTime(start);
    const installed: number[] = [];
    const logs: string[] = [];
    let failuresLeft = 3;
    let attempts = 0;
    const renewal = new CertificateRenewal<Material>(
      {
        fetch: async () => {
          attempts++;
          if (failuresLeft-- > 0) throw new Error('the agent certificate was refused: 503');
          return material(2, time.clock.now());
        },
        install: (m) => void installed.push(m.serial),
        clock: time.clock,
        timers: time.timers,
        log: (line) => logs.push(line),
      },
      material(1, start),
    );
    await time.advance(AGENT_HOST_CERT_TTL_MS / 2);
    expect(attempts).toBe(1);
    await time.advance(59_999);
    expect(attempts).toBe(1);
    await time.advance(1);
    expect(attempts).toBe(2);
    await time.advance(2 * 60_000);
    expect(attempts).toBe(4);
    expect(installed).toEqual([2]);
    expect(logs.slice(0, 3)).toEqual([
      'agent certificate renewal failed (the agent certificate was refused: 503); retrying in 60s; the current one expires in 60 min',
      'agent certificate renewal failed (the agent certificate was refused: 503); retrying in 60s; the current one expires in 59 min',
      'agent certificate renewal failed (the agent certificate was refused: 503); retrying in 60s; the current one expires in 58 min',
    ]);
    // The next renewal is at half of the new certificate's life.
    const renewedAt = time.clock.now().getTime();
    await time.advance(AGENT_HOST_CERT_TTL_MS / 2 - 1);
    expect(attempts).toBe(4);
    expect(time.clock.now().getTime() - renewedAt).toBe(AGENT_HOST_CERT_TTL_MS / 2 - 1);
    renewal.stop();
  });

  it('a failing install (the server refused the context) counts as a failure and is retried', async () => {
    const time = manualTime(start);
    let installs = 0;
    const renewal = new CertificateRenewal<Material>(
      {
        fetch: async () => material(2, time.clock.now()),
        install: () => {
          if (++installs === 1) throw new Error('bad key');
        },
        clock: time.clock,
        timers: time.timers,
        log: () => undefined,
      },
      material(1, start),
    );
    await time.advance(AGENT_HOST_CERT_TTL_MS / 2);
    expect(renewal.certificate.serial).toBe(1);
    await time.advance(60_000);
    expect(renewal.certificate.serial).toBe(2);
    renewal.stop();
  });

  it('a certificate already past its renewal time (a slow start) is renewed at once; stop() ends everything, even mid-fetch', async () => {
    const time = manualTime(start);
    const installed: number[] = [];
    let release: (() => void) | undefined;
    const renewal = new CertificateRenewal<Material>(
      {
        fetch: () =>
          new Promise<Material>((resolve) => {
            release = () => resolve(material(2, time.clock.now()));
          }),
        install: (m) => void installed.push(m.serial),
        clock: time.clock,
        timers: time.timers,
        log: () => undefined,
      },
      material(1, new Date(start.getTime() - AGENT_HOST_CERT_TTL_MS)),
    );
    await time.advance(0);
    expect(release).toBeDefined();
    renewal.stop();
    release!();
    await time.advance(AGENT_HOST_CERT_TTL_MS * 3);
    expect(installed).toEqual([]);
    expect(time.pending.size).toBe(0);
  });
});
