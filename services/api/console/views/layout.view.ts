import { html, type SafeHtml } from './html';
import type { ViewContext } from './view-context';

/** Where the console is mounted; every link and form starts here. */
export const BASE = '/console';

const NAV: Array<{ href: string; label: string; scope?: 'admin' }> = [
  { href: `${BASE}`, label: 'Overview' },
  { href: `${BASE}/products`, label: 'Products' },
  { href: `${BASE}/failures`, label: 'Failures' },
  { href: `${BASE}/held`, label: 'Held' },
  { href: `${BASE}/retracted`, label: 'Retracted' },
  { href: `${BASE}/discarded`, label: 'Discarded' },
  { href: `${BASE}/reconcile`, label: 'Reconcile', scope: 'admin' },
  { href: `${BASE}/tokens`, label: 'Tokens', scope: 'admin' },
];

/** The hidden CSRF field every state-changing form carries. */
export function csrfField(ctx: ViewContext): SafeHtml {
  return html`<input type="hidden" name="_csrf" value="${ctx.csrf}">`;
}

/** A one-button form that POSTs to `action` (with the CSRF field), for a verb. */
export function actionButton(ctx: ViewContext, action: string, label: string, opts: { danger?: boolean; fields?: Record<string, string> } = {}): SafeHtml {
  const fields = Object.entries(opts.fields ?? {}).map(([k, v]) => html`<input type="hidden" name="${k}" value="${v}">`);
  return html`<form method="post" action="${action}" class="inline">${csrfField(ctx)}${fields}<button type="submit"${opts.danger ? html` class="danger"` : ''}>${label}</button></form>`;
}

/** A whole page: head (assets only, no inline script or style), navigation, main content. */
export function layout(ctx: ViewContext, title: string, body: SafeHtml): SafeHtml {
  const nav = NAV.filter((n) => !n.scope || ctx.can(n.scope)).map(
    (n) => html`<li><a href="${n.href}"${ctx.path === n.href || (n.href !== BASE && ctx.path.startsWith(n.href)) ? html` aria-current="page"` : ''}>${n.label}</a></li>`,
  );
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="htmx-config" content='{"includeIndicatorStyles":false,"allowEval":false,"allowScriptTags":false,"selfRequestsOnly":true}'>
<title>${title} · Ferry console</title>
<link rel="stylesheet" href="${BASE}/assets/console.css">
<script src="${BASE}/assets/htmx.min.js" defer></script>
<script src="${BASE}/assets/sse.min.js" defer></script>
</head>
<body>
<a class="skip" href="#main">Skip to content</a>
<header>
<p class="brand"><a href="${BASE}">Ferry</a></p>
${ctx.user
  ? html`<nav aria-label="Console"><ul>${nav}${ctx.grafanaUrl ? html`<li><a href="${ctx.grafanaUrl}/d/ferry-publishing">Grafana</a></li>` : ''}</ul></nav>
<form method="post" action="${BASE}/sign-out" class="inline signout">${csrfField(ctx)}<span>${ctx.user.name} (${ctx.user.scopes.join(', ')})</span> <button type="submit">Sign out</button></form>`
  : ''}
</header>
<main id="main">
<h1>${title}</h1>
${body}
</main>
</body>
</html>
`;
}
