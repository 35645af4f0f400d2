// npm start -- --demo's GitHub set-up (lib/demo/github/demo-github.ts): the OAuth app and the
// password made once per data directory and kept 0600, a connector file that loads as kind github
// and maps the demo users as the start-up output says, and a clear error for a port in use.
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { githubConnectorSchema, mapTeams } from '../../lib/core/github-connector.js';
import { DEMO_GITHUB_USERS, startDemoGitHub } from '../../lib/demo/github/demo-github.js';

const API_URL = 'http://127.0.0.1:3080';

describe('the demo GitHub set-up', () => {
  it('keeps its client id, secret and password across restarts, in 0600 files, and writes a connector that maps dana only', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'demo-github-'));
    const first = await startDemoGitHub({ dataDir, host: '127.0.0.1', port: 0, apiUrl: API_URL });
    const firstFile = readFileSync(first.connectorFile, 'utf8');
    await first.close();
    const second = await startDemoGitHub({ dataDir, host: '127.0.0.1', port: 0, apiUrl: API_URL });
    await second.close();
    expect(second.password).toBe(first.password);
    expect(second.password).toMatch(/^[A-Za-z0-9_-]{14}$/);
    expect(statSync(join(dataDir, 'demo-github.json')).mode & 0o777).toBe(0o600);
    expect(statSync(second.connectorFile).mode & 0o777).toBe(0o600);

    const connector = githubConnectorSchema.parse(parse(readFileSync(second.connectorFile, 'utf8')));
    const before = githubConnectorSchema.parse(parse(firstFile));
    expect(connector.spec.client_id).toBe(before.spec.client_id);
    expect(connector.spec.client_secret).toBe(before.spec.client_secret);
    expect(connector.metadata.name).toBe('github');
    expect(connector.spec.redirect_url).toBe(`${API_URL}/webapi/github/callback`);
    expect(connector.spec.endpoint_url).toBe(second.url);

    const claims = (login: string) => {
      const user = DEMO_GITHUB_USERS.find((u) => u.login === login)!;
      return mapTeams(
        connector,
        login,
        user.teams.map((t) => ({ organization: t.organization, slug: t.slug, name: t.name ?? t.slug })),
      );
    };
    expect(claims('dana').roles).toEqual(['access']);
    expect(claims('dana').traits.kubernetes_groups).toEqual(['devs']);
    expect(claims('erik').roles).toEqual([]);
    expect(claims('finn').roles).toEqual([]);
  });

  it('names the address and the flag when its port is taken', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'demo-github-'));
    const taken = http.createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const port = (taken.address() as AddressInfo).port;
    try {
      await expect(startDemoGitHub({ dataDir, host: '127.0.0.1', port, apiUrl: API_URL })).rejects.toThrow(
        `the demo GitHub cannot listen on 127.0.0.1:${port} (EADDRINUSE); pass --demo-github-addr HOST:PORT with a free port`,
      );
    } finally {
      taken.close();
    }
  });
});
