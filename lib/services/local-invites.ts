// One-time invites of local users, their pending TOTP enrollments, and an index from each user to
// the invites they have, so that removing or re-adding a user deletes every invite of the name.
// Invites also carry the incarnation of the user they were made for, so one that escapes the
// index (a crash between two deletes, or data from before the index) still opens nothing.
import { createHash } from 'node:crypto';
import { KubeportError } from '../core/errors.js';
import type { ServiceDeps } from './deps.js';

export const INVITE_TTL_MS = 3_600_000;
// As long as an invite can live: completing needs the live invite as well.
const ENROLLMENT_TTL_MS = INVITE_TTL_MS;
const INDEX_KIND = 'local_invites';
const INDEX_RETRIES = 5;

export interface Invite {
  user: string;
  /** The `spec.created_by.incarnation` of the user when the invite was made. */
  incarnation?: string;
}

interface InviteIndex {
  invites: { hash: string; expires: string }[];
}

const hashOf = (token: string) => createHash('sha256').update(token).digest('hex');
const inviteKey = (hash: string) => `invite#${hash}`;
const enrollmentKey = (hash: string) => `enroll#${hash}`;

export class LocalInvites {
  constructor(private readonly deps: Pick<ServiceDeps, 'state' | 'resources' | 'clock' | 'random'>) {}

  /** Stores a hashed invite; the token itself is shown once, to the admin. */
  async create(user: string, incarnation: string | undefined): Promise<{ token: string; expires: string }> {
    const token = Buffer.from(this.deps.random.bytes(24)).toString('hex');
    const hash = hashOf(token);
    const expires = new Date(this.deps.clock.now().getTime() + INVITE_TTL_MS);
    // Indexed before it exists, so no live invite is ever missing from the index.
    await this.updateIndex(user, (entries) => [...entries, { hash, expires: expires.toISOString() }]);
    const invite: Invite = incarnation === undefined ? { user } : { user, incarnation };
    await this.deps.state.putIfAbsent(inviteKey(hash), invite, expires);
    return { token, expires: expires.toISOString() };
  }

  get(token: string): Promise<Invite | undefined> {
    return this.deps.state.get<Invite>(inviteKey(hashOf(token)));
  }

  /** Uses up an invite: of two racing enrollments, one gets it. */
  take(token: string): Promise<Invite | undefined> {
    return this.deps.state.take<Invite>(inviteKey(hashOf(token)));
  }

  /**
   * The pending enrollment's sealed TOTP secret, made by `seal` on the first call. Later calls
   * (tsh login retried with the same invite) get the same secret, so an entry already added to an
   * authenticator app stays valid; it lives as long as an invite can, and goes with the invite.
   */
  async startEnrollment(token: string, seal: () => Promise<string>): Promise<string> {
    const key = enrollmentKey(hashOf(token));
    const pending = await this.deps.state.get<{ sealed: string }>(key);
    if (pending) return pending.sealed;
    const sealed = await seal();
    if (await this.deps.state.putIfAbsent(key, { sealed }, new Date(this.deps.clock.now().getTime() + ENROLLMENT_TTL_MS))) return sealed;
    // Another start of the same invite stored its secret first: that one holds for both.
    const winner = await this.deps.state.get<{ sealed: string }>(key);
    if (!winner) throw new KubeportError('conflict', 'the enrollment changed while it was started; run tsh login with the invite again');
    return winner.sealed;
  }

  async pendingEnrollment(token: string): Promise<{ sealed: string } | undefined> {
    return this.deps.state.get<{ sealed: string }>(enrollmentKey(hashOf(token)));
  }

  async endEnrollment(token: string): Promise<void> {
    await this.deps.state.delete(enrollmentKey(hashOf(token)));
  }

  /** Deletes every invite of `user` and its pending enrollment (on `tctl users rm` and `add`). */
  async deleteAllOf(user: string): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      const index = await this.deps.resources.get<InviteIndex>(INDEX_KIND, user);
      if (!index) return;
      await Promise.all(
        index.body.invites.flatMap(({ hash }) => [this.deps.state.delete(inviteKey(hash)), this.deps.state.delete(enrollmentKey(hash))]),
      );
      try {
        // Only the index as read: an invite indexed meanwhile is deleted on the next round.
        await this.deps.resources.delete(INDEX_KIND, user, { expectRevision: index.revision });
        return;
      } catch (error) {
        if (!isConflict(error) || attempt >= INDEX_RETRIES) throw error;
      }
    }
  }

  /** Read, change and compare-and-swap the user's index, dropping entries of expired invites. */
  private async updateIndex(user: string, change: (entries: InviteIndex['invites']) => InviteIndex['invites']): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      const index = await this.deps.resources.get<InviteIndex>(INDEX_KIND, user);
      const now = this.deps.clock.now().getTime();
      const live = (index?.body.invites ?? []).filter((entry) => Date.parse(entry.expires) > now);
      try {
        await this.deps.resources.put<InviteIndex>(
          INDEX_KIND,
          user,
          { invites: change(live) },
          { expectRevision: index?.revision ?? null },
        );
        return;
      } catch (error) {
        if (!isConflict(error) || attempt >= INDEX_RETRIES) throw error;
      }
    }
  }
}

function isConflict(error: unknown): boolean {
  return error instanceof KubeportError && error.code === 'conflict';
}
