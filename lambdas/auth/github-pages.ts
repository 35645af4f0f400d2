// The pages a person's browser shows during GitHub login. Text is escaped; the redirect to tsh's
// loopback listener is a meta refresh (as Teleport's newer releases do), with a link for browsers
// that do not follow it.
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type { CallbackOutcome } from '../../lib/services/github-login.js';

const HEADERS = {
  'content-type': 'text/html; charset=utf-8',
  'cache-control': 'no-store',
  // The page carries the sealed result in its URL: never send it on as a referrer.
  'referrer-policy': 'no-referrer',
  'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'",
  'x-frame-options': 'DENY',
};

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function page(title: string, paragraphs: string[], refreshTo?: string): string {
  const refresh = refreshTo === undefined ? '' : `<meta http-equiv="refresh" content="0;URL='${escapeHtml(refreshTo)}'">`;
  const body = paragraphs.map((p) => `<p>${p}</p>`).join('\n');
  return `<!doctype html>
<html><head><meta charset="utf-8">${refresh}<title>${escapeHtml(title)}</title>
<style>body{font-family:sans-serif;max-width:40em;margin:4em auto;line-height:1.5}</style></head>
<body><h1>${escapeHtml(title)}</h1>
${body}
</body></html>
`;
}

export function callbackPage(outcome: CallbackOutcome): APIGatewayProxyStructuredResultV2 {
  if (outcome.kind === 'page') {
    return {
      statusCode: outcome.status,
      headers: HEADERS,
      body: page('Kubeport login failed', [escapeHtml(outcome.failure), 'You may close this tab.']),
    };
  }
  const link = `<a href="${escapeHtml(outcome.location)}">return to tsh</a>`;
  const paragraphs =
    outcome.failure === undefined
      ? [`Signed in. Handing the login to tsh; if nothing happens, ${link}.`]
      : [escapeHtml(outcome.failure), `tsh gets the same message; if it does not, ${link}.`];
  return {
    statusCode: 200,
    headers: HEADERS,
    body: page(outcome.failure === undefined ? 'Kubeport login' : 'Kubeport login failed', paragraphs, outcome.location),
  };
}
