import { html, type SafeHtml } from './html';
import { BASE, layout } from './layout.view';
import type { ViewContext } from './view-context';

/** The sign-in form: an API token in a password field, and the pre-session CSRF field. */
export function signInPage(ctx: ViewContext, csrf: string, message?: string): SafeHtml {
  return layout(ctx, 'Sign in', html`
${message ? html`<p class="notice" role="alert">${message}</p>` : ''}
<form method="post" action="${BASE}/sign-in" class="signin">
<input type="hidden" name="_csrf" value="${csrf}">
<div class="field"><label for="token">API token</label><input id="token" name="token" type="password" autocomplete="off" required></div>
<div class="field"><button type="submit">Sign in</button></div>
</form>
<p>A read token can look at everything; actions need a publish or admin token. Create one with <code>ferryctl token create</code>.</p>`);
}

/** Any refusal or error as a page: status, code and message (never a stack or a server path). */
export function errorPage(ctx: ViewContext, status: number, code: string, message: string): SafeHtml {
  return layout(ctx, `${status} ${code.replace(/_/g, ' ')}`, html`<p role="alert">${message}</p><p><a href="${BASE}">Back to the overview</a></p>`);
}
