import type { ReconcileReport } from '../../../core/domain/publishing/reconcile';
import type { PublicToken } from '../../../core/domain/tokens/public-token';
import type { ProductSummaryRow } from '../../../core/repositories/product-search.repository';
import { SCOPES } from '../../../core/repositories/token.types';
import { formatTime } from './format';
import { html, type SafeHtml } from './html';
import { actionButton, BASE, csrfField, layout } from './layout.view';
import { productTable } from './products.view';
import type { ViewContext } from './view-context';

/** The lists by state: held (with release and discard for an admin), retracted and discarded (terminal). */
export type ListState = 'held' | 'retracted' | 'discarded';
const LIST_INTRO: Record<ListState, string> = {
  held: 'Registered with auto_publish false, or put on hold: they wait for a release.',
  retracted: 'Withdrawn after publication: moved aside under the archive, never deleted.',
  discarded: 'Given up: kept in the registry with who and why, out of the health figures.',
};

/** One list page. */
export function stateListPage(ctx: ViewContext, state: ListState, rows: ProductSummaryRow[]): SafeHtml {
  const verbs = state === 'held' && ctx.can('admin')
    ? { extra: (r: ProductSummaryRow) => html`${actionButton(ctx, `${BASE}/products/${encodeURIComponent(r.data_id)}/release`, 'Release')} <a href="${BASE}/products/${encodeURIComponent(r.data_id)}#verbs-h">Discard…</a>` }
    : {};
  return layout(ctx, `${state[0]!.toUpperCase()}${state.slice(1)} products`, html`<p>${LIST_INTRO[state]}</p>
${productTable(rows, verbs)}`);
}

/** API tokens: list with revoke buttons, and the creation form. `created` shows a new token once. */
export function tokensPage(ctx: ViewContext, tokens: PublicToken[], created?: { name: string; token: string }): SafeHtml {
  return layout(ctx, 'API tokens', html`
${created ? html`<div class="notice" role="status"><p>Token <strong>${created.name}</strong> created. Copy it now: it is not shown again.</p><p><code class="secret">${created.token}</code></p></div>` : ''}
<table><thead><tr><th scope="col">Name</th><th scope="col">Scopes</th><th scope="col">Created</th><th scope="col">Last used</th><th scope="col">Revoked</th><th scope="col">Actions</th></tr></thead>
<tbody>${tokens.map((t) => html`<tr><td>${t.name}</td><td>${t.scopes.join(', ')}</td><td>${formatTime(new Date(t.created_at))}</td><td>${t.last_used_at ? formatTime(new Date(t.last_used_at)) : 'never'}</td><td>${t.revoked_at ? formatTime(new Date(t.revoked_at)) : ''}</td><td>${t.revoked_at ? '' : actionButton(ctx, `${BASE}/tokens/${encodeURIComponent(t.name)}/revoke`, 'Revoke', { danger: true })}</td></tr>`)}</tbody></table>
<form method="post" action="${BASE}/tokens" class="filters">${csrfField(ctx)}
<div class="field"><label for="t-name">Name</label><input id="t-name" name="name" required pattern="[A-Za-z0-9_.\\-]{1,64}"></div>
<fieldset><legend>Scopes</legend>${SCOPES.map((s) => html`<label><input type="checkbox" name="scopes" value="${s}"${s === 'read' ? html` checked` : ''}> ${s}</label> `)}</fieldset>
<div class="field"><button type="submit">Create token</button></div></form>`);
}

/** The reconcile report: drift between registry, queue and both roots. */
export function reconcilePage(ctx: ViewContext, r: ReconcileReport): SafeHtml {
  const list = (title: string, items: unknown[], line: (i: never) => SafeHtml | string) => html`<section><h2>${title} (${items.length})</h2>${items.length ? html`<ul>${items.map((i) => html`<li>${line(i as never)}</li>`)}</ul>` : html`<p>None.</p>`}</section>`;
  return layout(ctx, 'Reconcile report', html`<p role="status">${r.healthy ? 'Healthy: registry, queue and archive agree.' : 'Drift found.'} Generated ${r.generated_at}.</p>
${list('Published but missing', r.published_missing, (i: { data_id: string; path: string }) => html`<a href="${BASE}/products/${encodeURIComponent(i.data_id)}">${i.data_id}</a> at ${i.path}`)}
${list('Size or file count differs', r.published_size_mismatch, (i: { data_id: string; expected_bytes: number; actual_bytes: number }) => html`${i.data_id}: ${i.expected_bytes} bytes recorded, ${i.actual_bytes} on disk`)}
${list('Files without a registry row', r.files_without_row, (i: { path: string; type: string }) => html`${i.path} (${i.type})`)}
${list('Orphan temporaries', r.orphan_temporaries, (i: { name: string }) => html`${i.name}`)}
${list('Queue jobs without a row', r.jobs_without_row, (i: { job_id: string; state: string }) => html`${i.job_id} (${i.state})`)}`);
}
