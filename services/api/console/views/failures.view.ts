import type { FailureGroupRow, ProductSummaryRow } from '../../../core/repositories/product-search.repository';
import { formatCount, formatTime } from './format';
import { html, type SafeHtml } from './html';
import { BASE, csrfField, layout } from './layout.view';
import { productTable } from './products.view';
import type { ViewContext } from './view-context';

/**
 * Failures grouped by error class, then the newest failed products. One GET form holds both
 * checkbox sets: choosing groups or products and pressing "Preview" shows the dry run; nothing
 * changes until that preview's own form is confirmed.
 */
export function failuresPage(ctx: ViewContext, groups: FailureGroupRow[], recent: ProductSummaryRow[]): SafeHtml {
  const canAct = ctx.can('admin');
  const groupRows = groups.map((g, i) => html`<tr>
${canAct ? html`<td><input type="checkbox" name="error_class" value="${g.error_class}" id="grp-${i}" aria-label="Select the group ${g.error_class}"></td>` : ''}
<td><a href="${BASE}/products?status=failed&amp;error_class=${encodeURIComponent(g.error_class)}">${g.error_class}</a></td><td>${formatCount(g.count)}</td>
<td>${formatTime(g.newest_at)}, <a href="${BASE}/products/${encodeURIComponent(g.newest_data_id)}">${g.newest_data_id}</a>: <span class="error">${g.newest_error ?? ''}</span></td></tr>`);
  const body = html`<section aria-labelledby="groups-h"><h2 id="groups-h">By error class</h2>
${groups.length ? html`<table><thead><tr>${canAct ? html`<th scope="col">Select</th>` : ''}<th scope="col">Error class</th><th scope="col">Failed products</th><th scope="col">Newest failure and its message</th></tr></thead><tbody>${groupRows}</tbody></table>` : html`<p>No failed products.</p>`}
</section>
<section aria-labelledby="recent-h"><h2 id="recent-h">Newest failed products</h2>${productTable(recent, { select: canAct })}</section>`;
  return layout(ctx, 'Failures', canAct && groups.length
    ? html`<form method="get" action="${BASE}/failures/preview">${body}
<fieldset><legend>Bulk action on the selection (a dry run is shown first)</legend>
<label><input type="radio" name="action" value="retry" checked> Retry</label>
<label><input type="radio" name="action" value="discard"> Discard</label>
<button type="submit">Preview</button></fieldset></form>`
    : body);
}

/** The dry run: exactly which products the action would touch, and the form that does it. */
export function previewPage(
  ctx: ViewContext,
  action: 'retry' | 'discard',
  rows: Array<{ data_id: string; data_type: string; error_class: string | null; publish_error: string | null; publish_attempts: number; updated_at: Date }>,
  limit: number,
): SafeHtml {
  return layout(ctx, `Dry run: ${action} ${rows.length} product${rows.length === 1 ? '' : 's'}`, html`
<p>Nothing has changed yet. ${rows.length === limit ? html`At most ${limit} products are handled per action; run it again for the rest.` : ''}</p>
${rows.length ? html`<table><thead><tr><th scope="col">data_id</th><th scope="col">Type</th><th scope="col">Error class</th><th scope="col">Attempts</th><th scope="col">Failed at</th><th scope="col">Message</th></tr></thead>
<tbody>${rows.map((r) => html`<tr><td><a href="${BASE}/products/${encodeURIComponent(r.data_id)}">${r.data_id}</a></td><td>${r.data_type}</td><td>${r.error_class ?? 'unknown'}</td><td>${r.publish_attempts}</td><td>${formatTime(r.updated_at)}</td><td class="error">${r.publish_error ?? ''}</td></tr>`)}</tbody></table>
<form method="post" action="${BASE}/failures/${action}" class="verb">${csrfField(ctx)}${rows.map((r) => html`<input type="hidden" name="data_id" value="${r.data_id}">`)}
${action === 'discard' ? html`<label for="bulk-reason">Reason</label> <input id="bulk-reason" name="reason" required maxlength="2000">
<label><input type="checkbox" name="remove_source" value="true"> also remove the staged sources</label>` : ''}
<button type="submit"${action === 'discard' ? html` class="danger"` : ''}>${action === 'retry' ? 'Retry' : 'Discard'} these ${rows.length}</button> <a href="${BASE}/failures">Cancel</a></form>` : html`<p>The selection holds no failed product. <a href="${BASE}/failures">Back to failures</a></p>`}`);
}

/** What a bulk action did, product by product. */
export function bulkResultPage(ctx: ViewContext, title: string, results: Array<{ data_id: string; ok: boolean; outcome: string }>): SafeHtml {
  const done = results.filter((r) => r.ok).length;
  return layout(ctx, title, html`<p role="status">${done} of ${results.length} done.</p>
<table><thead><tr><th scope="col">data_id</th><th scope="col">Outcome</th></tr></thead>
<tbody>${results.map((r) => html`<tr><td><a href="${BASE}/products/${encodeURIComponent(r.data_id)}">${r.data_id}</a></td><td>${r.outcome}</td></tr>`)}</tbody></table>
<p><a href="${BASE}/failures">Back to failures</a></p>`);
}
