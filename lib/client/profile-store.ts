// tsh's profiles under ~/.tsh (or $TSH_HOME), laid out as Teleport users know them:
// current-profile, <proxy>.yaml, keys/<proxy>/<user>.key|.crt, keys/<proxy>/cas/<cluster>.pem.
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { writeFileAtomic } from '../platform/safe-file.js';

export interface Profile {
  proxy: string;
  user: string;
  cluster: string;
  agent: string;
  roles: string[];
  traits: Record<string, string[]>;
  expires: string;
  /** How this login was made: 'local' or a connector's name; the next plain `tsh login` does the same. */
  auth?: string;
  /** When the trusted CAs (cas/) were last read from the proxy; tsh reads them again every few minutes. */
  cas_fetched?: string;
}

export interface ProfileKeys {
  certPem: string;
  keyPem: string;
  userCaPem: string;
  hostCaPem: string;
}

export class ProfileStore {
  constructor(readonly home: string) {}

  current(): string | undefined {
    const path = join(this.home, 'current-profile');
    return existsSync(path) ? readFileSync(path, 'utf8').trim() || undefined : undefined;
  }

  load(proxy: string): { profile: Profile; keys: ProfileKeys } | undefined {
    const path = join(this.home, `${proxy}.yaml`);
    if (!existsSync(path)) return undefined;
    const profile = parseProfile(readFileSync(path, 'utf8'));
    const dir = this.keyDir(proxy);
    const read = (name: string) => readFileSync(join(dir, name), 'utf8');
    try {
      return {
        profile,
        keys: {
          certPem: read(`${profile.user}.crt`),
          keyPem: read(`${profile.user}.key`),
          userCaPem: read(join('cas', `${profile.cluster}.pem`)),
          hostCaPem: read(join('cas', `${profile.cluster}-host.pem`)),
        },
      };
    } catch {
      return undefined;
    }
  }

  save(profile: Profile, keys: ProfileKeys): void {
    mkdirSync(this.home, { recursive: true, mode: 0o700 });
    const dir = this.keyDir(profile.proxy);
    mkdirSync(join(dir, 'cas'), { recursive: true, mode: 0o700 });
    writeFileAtomic(join(dir, `${profile.user}.key`), keys.keyPem, { mode: 0o600 });
    writeFileAtomic(join(dir, `${profile.user}.crt`), keys.certPem, { mode: 0o600 });
    writeFileAtomic(join(dir, 'cas', `${profile.cluster}.pem`), keys.userCaPem, { mode: 0o644 });
    writeFileAtomic(join(dir, 'cas', `${profile.cluster}-host.pem`), keys.hostCaPem, { mode: 0o644 });
    writeFileAtomic(join(this.home, `${profile.proxy}.yaml`), `${JSON.stringify(profile, null, 2)}\n`, { mode: 0o600 });
    writeFileAtomic(join(this.home, 'current-profile'), `${profile.proxy}\n`, { mode: 0o600 });
  }

  /** Replaces the trusted CAs of a saved profile (a CA rotation); the login itself and the current profile stay. */
  saveCas(profile: Profile, cas: Pick<ProfileKeys, 'userCaPem' | 'hostCaPem'>): void {
    const dir = this.keyDir(profile.proxy);
    writeFileAtomic(join(dir, 'cas', `${profile.cluster}.pem`), cas.userCaPem, { mode: 0o644 });
    writeFileAtomic(join(dir, 'cas', `${profile.cluster}-host.pem`), cas.hostCaPem, { mode: 0o644 });
    writeFileAtomic(join(this.home, `${profile.proxy}.yaml`), `${JSON.stringify(profile, null, 2)}\n`, { mode: 0o600 });
  }

  /** Removes exactly this profile's files; other profiles stay. */
  remove(proxy: string): void {
    rmSync(this.keyDir(proxy), { recursive: true, force: true });
    rmSync(join(this.home, `${proxy}.yaml`), { force: true });
    if (this.current() === proxy) rmSync(join(this.home, 'current-profile'), { force: true });
  }

  private keyDir(proxy: string): string {
    return join(this.home, 'keys', proxy);
  }
}

/**
 * Profiles are written as JSON, which is YAML too, so `tsh kube credentials` (every kubectl
 * command) reads them without loading the YAML library; block YAML from older versions still reads.
 */
function parseProfile(text: string): Profile {
  if (text.trimStart().startsWith('{')) return JSON.parse(text) as Profile;
  const yaml = createRequire(import.meta.url)('yaml') as typeof import('yaml');
  return yaml.parse(text) as Profile;
}

/** Whether the profile's CAs are older than `refreshMs` (or were never dated); light, for the exec plugin. */
export function casStale(profile: Profile, now: Date, refreshMs: number): boolean {
  const fetched = profile.cas_fetched === undefined ? Number.NaN : Date.parse(profile.cas_fetched);
  return !(now.getTime() - fetched < refreshMs);
}
