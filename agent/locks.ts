// The agent's view of the locks. It learns of them only through the store, never from memory
// another process shares, so every agent behind a load balancer sees the same locks: one Query of
// the lock partition per poll (every second by default). New requests are checked against the
// view (authorize.ts); a lock the view gains ends the open streams it names at once.
// When the store cannot be read for longer than maxStalenessMs (5 minutes, Teleport's default),
// identities whose roles say `lock: strict` are refused and their streams ended; the others go on
// with the last locks read (best_effort), as in Teleport.
import { accessDenied } from '../lib/core/errors.js';
import type { Identity } from '../lib/core/identity.js';
import {
  type Lock,
  type LockingMode,
  STRICT_LOCKOUT_MESSAGE,
  isInForce,
  lockInForceFor,
  lockInForceMessage,
  lockSchema,
  lockTargets,
  lockingMode,
} from '../lib/core/lock.js';
import type { Clock, ResourceStore } from '../lib/core/ports.js';
import type { Role } from '../lib/core/resources.js';
import type { StreamLifetimes } from './stream-lifetime.js';

export const DEFAULT_LOCK_POLL_MS = 1_000;
/** Teleport's default: a lock view older than this is stale. */
export const DEFAULT_LOCK_MAX_STALENESS_MS = 5 * 60_000;

export interface LockWatcherOptions {
  store: Pick<ResourceStore, 'list'>;
  clock: Clock;
  log: (message: string) => void;
  pollMs?: number;
  maxStalenessMs?: number;
  /** The mode of identities none of whose roles sets `lock` (Teleport's cluster-wide locking_mode). */
  defaultMode?: LockingMode;
}

export type LockEvent =
  /** The view gained a lock (new, or changed) that is in force. */
  | { type: 'locked'; lock: Lock }
  /** The view has gone stale: strict identities are locked out until it is fresh again. */
  | { type: 'unreliable'; message: string };

/** What authorize needs: refuses a locked identity, and says which locking mode its roles set. */
export interface LockCheck {
  check(identity: Identity, roles: readonly Role[]): LockingMode;
}

export class LockWatcher implements LockCheck {
  private locks: Lock[] = [];
  /** name → revision of the locks in the view, to tell which are new. */
  private revisions = new Map<string, string>();
  /** name → revision of stored bodies that are not locks, so each is logged once, not every poll. */
  private ignored = new Map<string, string>();
  private lastReadAt: number | undefined;
  private stale = false;
  private failing = false;
  private polling: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private first: Promise<void> | undefined;
  private readonly listeners = new Set<(event: LockEvent) => void>();
  private readonly pollMs: number;
  private readonly maxStalenessMs: number;
  private readonly defaultMode: LockingMode;

  constructor(private readonly options: LockWatcherOptions) {
    this.pollMs = options.pollMs ?? DEFAULT_LOCK_POLL_MS;
    this.maxStalenessMs = options.maxStalenessMs ?? DEFAULT_LOCK_MAX_STALENESS_MS;
    this.defaultMode = options.defaultMode ?? 'best_effort';
  }

  /** Starts polling; resolves once the first read has succeeded or failed. Calling it again changes nothing. */
  start(): Promise<void> {
    if (this.first) return this.first;
    this.first = this.refresh();
    this.timer = setInterval(() => this.tick(), this.pollMs);
    this.timer.unref();
    return this.first;
  }

  close(): void {
    clearInterval(this.timer);
    this.listeners.clear();
  }

  subscribe(listener: (event: LockEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Refuses an identity a lock in force names, or (strict mode) any while the view is stale. */
  check(identity: Identity, roles: readonly Role[]): LockingMode {
    const mode = lockingMode(roles, this.defaultMode);
    if (mode === 'strict' && this.isStale()) throw accessDenied(this.unreliableMessage());
    const lock = lockInForceFor(this.locks, identity, this.options.clock.now());
    if (lock) throw accessDenied(lockInForceMessage(lock));
    return mode;
  }

  /**
   * Why a stream of `identity` (whose roles set `mode`) must not run now, if it must not: a lock
   * in force names it, or (strict) the view is stale. Asked when a stream starts being tracked, so
   * one authorized just before a lock arrived is ended at once, not at the next sweep.
   */
  refusalFor(identity: Identity, mode: LockingMode | undefined): string | undefined {
    if (mode === 'strict' && this.isStale()) return this.unreliableMessage();
    const lock = lockInForceFor(this.locks, identity, this.options.clock.now());
    return lock ? lockInForceMessage(lock) : undefined;
  }

  /** Never read, or not read for longer than maxStalenessMs. */
  isStale(): boolean {
    if (this.lastReadAt === undefined) return true;
    return this.options.clock.now().getTime() - this.lastReadAt > this.maxStalenessMs;
  }

  /** Reads the locks once (one Query). A read already under way is awaited instead. */
  refresh(): Promise<void> {
    this.polling ??= this.read().finally(() => (this.polling = undefined));
    return this.polling;
  }

  private tick(): void {
    void this.refresh();
    // A store that hangs rather than fails still makes the view stale.
    this.noticeStaleness();
  }

  private async read(): Promise<void> {
    let stored;
    try {
      stored = await this.options.store.list<unknown>('lock');
    } catch (error) {
      if (!this.failing)
        this.options.log(`agent cannot read locks from the store: ${error instanceof Error ? error.message : String(error)}`);
      this.failing = true;
      this.noticeStaleness();
      return;
    }
    const now = this.options.clock.now();
    const locks: Lock[] = [];
    const revisions = new Map<string, string>();
    const ignored = new Map<string, string>();
    const gained: Lock[] = [];
    for (const item of stored) {
      const parsed = lockSchema.safeParse(item.body);
      if (!parsed.success) {
        if (this.ignored.get(item.name) !== item.revision) {
          const issue = parsed.error.issues[0];
          this.options.log(
            `agent ignores stored lock "${item.name}": ${issue ? `${issue.path.join('.')}: ${issue.message}` : 'not a lock'}`,
          );
        }
        ignored.set(item.name, item.revision);
        continue;
      }
      locks.push(parsed.data);
      revisions.set(item.name, item.revision);
      if (this.revisions.get(item.name) !== item.revision && isInForce(parsed.data, now)) gained.push(parsed.data);
    }
    this.locks = locks;
    this.revisions = revisions;
    this.ignored = ignored;
    this.lastReadAt = now.getTime();
    if (this.failing || this.stale) this.options.log('agent reads locks from the store again');
    this.failing = false;
    this.stale = false;
    for (const lock of gained) this.emit({ type: 'locked', lock });
  }

  private noticeStaleness(): void {
    if (this.stale || !this.isStale() || this.first === undefined) return;
    this.stale = true;
    const message = this.unreliableMessage();
    this.options.log(`agent lock view is stale: ${message}`);
    this.emit({ type: 'unreliable', message });
  }

  private unreliableMessage(): string {
    const since =
      this.lastReadAt === undefined
        ? 'since it started'
        : `for ${Math.round((this.options.clock.now().getTime() - this.lastReadAt) / 1000)} s (more than ${this.maxStalenessMs / 1000} s)`;
    return `${STRICT_LOCKOUT_MESSAGE}: the Kubeport agent has not been able to read locks from its store ${since}, and a role of yours sets lock: strict, so access is refused until the agent reads them again; ask an admin to check the agent's access to its store`;
  }

  private emit(event: LockEvent): void {
    for (const listener of this.listeners) listener(event);
  }
}

/**
 * Ends the open streams a new lock names (or, when the view goes stale, those of strict
 * identities) with the lock's message; returns the unsubscribe function.
 */
export function endLockedStreams(watcher: LockWatcher, lifetimes: StreamLifetimes, log: (message: string) => void): () => void {
  return watcher.subscribe((event) => {
    const ended =
      event.type === 'locked'
        ? lifetimes.endMatching(
            (scope) => scope.identity !== undefined && lockTargets(event.lock, scope.identity),
            'locked',
            lockInForceMessage(event.lock),
          )
        : lifetimes.endMatching((scope) => scope.lockMode === 'strict', 'locked', event.message);
    if (ended > 0) {
      const why = event.type === 'locked' ? `lock "${event.lock.metadata.name}"` : 'the stale lock view (strict mode)';
      log(`agent ended ${ended} open stream${ended === 1 ? '' : 's'} for ${why}`);
    }
  });
}
