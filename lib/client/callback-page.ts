// The page the person sees in the browser when the login comes back to tsh: that they may close
// it, or what went wrong and what to do. Plain HTML with no scripts, styles from no one else.

const escapeHtml = (text: string) =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

function page(title: string, paragraphs: string[]): string {
  return [
    '<!doctype html>',
    '<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${escapeHtml(title)}</title>`,
    '<style>body{font-family:system-ui,sans-serif;max-width:40em;margin:4em auto;padding:0 1em;line-height:1.5}</style>',
    `</head><body><h1>${escapeHtml(title)}</h1>`,
    ...paragraphs.map((p) => `<p>${escapeHtml(p)}</p>`),
    '</body></html>',
    '',
  ].join('\n');
}

export const successPage = () => page('Login successful, you may close this page', ['tsh has your certificate; go back to your terminal.']);

export const failurePage = (reason: string) =>
  page('Login failed', [
    reason,
    'Close this page and run tsh login again in your terminal. If it fails again, show this message to your Kubeport admin.',
  ]);

export const notFromThisLoginPage = () =>
  page('This request was not from this login', [
    'It does not carry a result sealed with the key of the tsh login that is waiting here, so tsh ignored it; that login is still waiting.',
    'Finish the login from the link that tsh printed in your terminal.',
  ]);
