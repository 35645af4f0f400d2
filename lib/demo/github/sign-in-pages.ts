// The demo GitHub's pages for a person: sign in as a demo user to answer an OAuth authorize
// request, and enter a device flow's user code. Local mode's API listens on loopback, where any
// other account on this machine can reach it too; the demo password (printed by npm start, kept
// 0600 in the data directory) is what stops that account from signing in as a demo user and
// getting the roles the connector maps. Posts from another site are refused, so a web page the
// person visits cannot submit these forms for them; everything a page echoes is escaped.
import { createHash, timingSafeEqual } from 'node:crypto';
import type http from 'node:http';
import type { StandInUser } from './github-server.js';

/** The authorize request's fields that ride along in the sign-in form. */
const CARRIED = ['client_id', 'redirect_uri', 'state', 'scope', 'code_challenge', 'code_challenge_method'] as const;

export interface PersonAnswer {
  form: URLSearchParams;
  decision: 'approve' | 'deny';
  userId: number;
}

export class SignInPages {
  private readonly origins: Set<string>;
  private readonly passwordDigest: Buffer;

  constructor(
    url: string,
    password: string,
    readonly users: () => StandInUser[],
  ) {
    const port = new URL(url).port;
    this.origins = new Set([new URL(url).origin, `http://localhost:${port}`, `http://127.0.0.1:${port}`]);
    this.passwordDigest = digest(password);
  }

  signInPage(res: http.ServerResponse, query: URLSearchParams, error?: string, status = 200): void {
    const hidden = CARRIED.filter((name) => query.get(name) !== null)
      .map((name) => `<input type="hidden" name="${name}" value="${escapeHtml(query.get(name)!)}">`)
      .join('\n');
    html(
      res,
      status,
      'Sign in to the demo GitHub',
      `${errorLine(error)}<p>Kubeport (client ${escapeHtml(query.get('client_id') ?? '')}) asks to read your
organization and team memberships (scope read:org). Choose a demo user and enter the demo password that
<code>npm start -- --demo</code> printed.</p>
<form method="post" action="/login/oauth/authorize">
${hidden}
${this.userChoice()}
${passwordField()}
<p><button name="decision" value="approve">Sign in and authorize</button> <button name="decision" value="deny">Cancel</button></p>
</form>`,
    );
  }

  devicePage(res: http.ServerResponse, userCode: string, error?: string, status = 200): void {
    html(
      res,
      status,
      'Device activation on the demo GitHub',
      `${errorLine(error)}<p>Enter the code tsh shows, choose a demo user and enter the demo password that
<code>npm start -- --demo</code> printed.</p>
<form method="post" action="/login/device">
<p><label>Code <input name="user_code" value="${escapeHtml(userCode)}" autocomplete="off" placeholder="XXXX-XXXX"></label></p>
${this.userChoice()}
${passwordField()}
<p><button name="decision" value="approve">Authorize</button> <button name="decision" value="deny">Deny</button></p>
</form>`,
    );
  }

  deviceResult(res: http.ServerResponse, status: number, outcome: 'approved' | 'denied' | 'unknown-code', userCode: string): void {
    if (outcome === 'unknown-code') {
      return this.devicePage(res, userCode, `No waiting device has the code ${userCode}: check it, or start the login again.`, status);
    }
    const text =
      outcome === 'approved'
        ? 'Your device is connected. Return to your terminal; you may close this page.'
        : 'The device was denied. tsh will say so; you may close this page.';
    html(res, status, outcome === 'approved' ? 'Device approved' : 'Device denied', `<p>${text}</p>`);
  }

  /** Whether a POST comes from these pages rather than from another site the browser has open. */
  sameOrigin(req: http.IncomingMessage): boolean {
    const origin = req.headers.origin;
    if (origin !== undefined && !this.origins.has(origin)) return false;
    const site = req.headers['sec-fetch-site'];
    if (site !== undefined && site !== 'same-origin') return false;
    // A page that renamed itself to 127.0.0.1 (DNS rebinding) still carries its own Host name.
    return this.origins.has(`http://${req.headers.host ?? ''}`);
  }

  passwordMatches(given: string): boolean {
    return timingSafeEqual(digest(given), this.passwordDigest);
  }

  private userChoice(): string {
    const options = this.users()
      .map((user, i) => {
        const teams = user.teams.map((t) => `${t.organization}/${t.slug}`).join(', ') || 'no team';
        return `<label><input type="radio" name="user_id" value="${user.id}"${i === 0 ? ' checked' : ''}> ${escapeHtml(user.login)} (${escapeHtml(teams)})</label><br>`;
      })
      .join('\n');
    return `<fieldset><legend>Demo user</legend>\n${options}\n</fieldset>`;
  }
}

/**
 * Reads a posted sign-in or device form; when it comes from another site, lacks a known user or
 * has the wrong password, answers the person itself and returns undefined.
 */
export function readPersonAnswer(
  pages: SignInPages,
  req: http.IncomingMessage,
  body: string,
  res: http.ServerResponse,
): PersonAnswer | undefined {
  if (!pages.sameOrigin(req)) {
    html(res, 403, 'Refused', '<p>This form was posted from another site. Open the sign-in link from tsh again.</p>');
    return undefined;
  }
  const form = new URLSearchParams(/application\/x-www-form-urlencoded/.test(req.headers['content-type'] ?? '') ? body : '');
  const isDevice = (req.url ?? '').startsWith('/login/device');
  const retry = (error: string, status: number) =>
    isDevice ? pages.devicePage(res, form.get('user_code') ?? '', error, status) : pages.signInPage(res, form, error, status);
  const decision = form.get('decision') === 'deny' ? 'deny' : 'approve';
  const userId = Number(form.get('user_id'));
  if (decision === 'approve' && !pages.users().some((user) => user.id === userId)) {
    retry('Choose one of the demo users.', 400);
    return undefined;
  }
  // Denying needs the password too: otherwise another account could cancel a person's login.
  if (!pages.passwordMatches(form.get('password') ?? '')) {
    retry('The demo password is wrong. npm start -- --demo printed it (and it is in demo-github.json in the data directory).', 403);
    return undefined;
  }
  return { form, decision, userId };
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

function errorLine(error: string | undefined): string {
  return error === undefined ? '' : `<p role="alert"><strong>${escapeHtml(error)}</strong></p>\n`;
}

function passwordField(): string {
  return '<p><label>Demo password <input type="password" name="password" autocomplete="current-password"></label></p>';
}

function html(res: http.ServerResponse, status: number, title: string, content: string): void {
  res.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-store',
    // The state and PKCE challenge are in this page's URL; no other page learns them.
    'referrer-policy': 'no-referrer',
    'x-frame-options': 'DENY',
    'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
  }).end(`<!doctype html><html><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head>
<body><h1>${escapeHtml(title)}</h1>
${content}
</body></html>`);
}
