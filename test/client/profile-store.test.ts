// The profile store: profiles are written as JSON (so kubectl's exec plugin reads them without
// the YAML library), and block-YAML profiles from earlier versions still load.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { describe, expect, it } from 'vitest';
import { type Profile, ProfileStore } from '../../lib/client/profile-store.js';

const profile: Profile = {
  proxy: '127.0.0.1:3080',
  user: 'alice',
  cluster: 'kubeport-local',
  agent: '127.0.0.1:3026',
  roles: ['access'],
  traits: { kubernetes_groups: ['devs'] },
  expires: '2030-01-01T00:00:00.000Z',
};
const keys = { certPem: 'CERT', keyPem: 'KEY', userCaPem: 'USER CA', hostCaPem: 'HOST CA' };

describe('profile store', () => {
  it('writes the profile as JSON and reads it back with its keys', () => {
    const store = new ProfileStore(mkdtempSync(join(tmpdir(), 'kubeport-profile-')));
    store.save(profile, keys);
    expect(JSON.parse(readFileSync(join(store.home, '127.0.0.1:3080.yaml'), 'utf8'))).toEqual(profile);
    expect(store.current()).toBe('127.0.0.1:3080');
    expect(store.load('127.0.0.1:3080')).toEqual({ profile, keys });
  });

  it('still reads a profile an earlier version wrote as block YAML', () => {
    const store = new ProfileStore(mkdtempSync(join(tmpdir(), 'kubeport-profile-')));
    store.save(profile, keys);
    writeFileSync(join(store.home, '127.0.0.1:3080.yaml'), stringify(profile));
    expect(store.load('127.0.0.1:3080')?.profile).toEqual(profile);
  });
});
