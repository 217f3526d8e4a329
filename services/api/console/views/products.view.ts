import type { ProductSummaryRow } from '../../../core/repositories/product-search.repository';
import { PRODUCT_STATUSES } from '../../../core/repositories/product.types';
import { formatBytes, formatTime } from './format';
import { html, type SafeHtml } from './html';
import { BASE, layout } from './layout.view';
import type { ViewContext } from './view-context';

/** The products filter as the form holds it (strings, empty = not set). */
export interface ProductsFilterForm {
  status: string;
  data_type: string;
  error_class: string;
  since: string;
  until: string;
  data_id: string;
  metadata: string;
}

/** A table of products; used by the products, held and failure pages. */
export function productTable(rows: ProductSummaryRow[], opts: { select?: boolean; extra?: (r: ProductSummaryRow) => SafeHtml } = {}): SafeHtml {
  if (!rows.length) return html`<p>No products match.</p>`;
  return html`<table class="products"><thead><tr>${opts.select ? html`<th scope="col">Select</th>` : ''}<th scope="col">data_id</th><th scope="col">Type</th><th scope="col">State</th><th scope="col">Size</th><th scope="col">Files</th><th scope="col">Attempts</th><th scope="col">Error class</th><th scope="col">Registered (UTC)</th>${opts.extra ? html`<th scope="col">Actions</th>` : ''}</tr></thead>
<tbody>${rows.map((r) => html`<tr>${opts.select ? html`<td><input type="checkbox" name="data_id" value="${r.data_id}" id="sel-${r.id}" aria-label="Select ${r.data_id}"></td>` : ''}<td><a href="${BASE}/products/${encodeURIComponent(r.data_id)}">${r.data_id}</a></td><td>${r.data_type}</td><td><span class="state state-${r.status}">${r.status}${r.status === 'staging' && r.held ? ' (held)' : ''}</span></td><td>${formatBytes(r.size_bytes)}</td><td>${r.file_count ?? '—'}</td><td>${r.publish_attempts}</td><td>${r.error_class ?? ''}</td><td>${formatTime(r.created_at)}</td>${opts.extra ? html`<td>${opts.extra(r)}</td>` : ''}</tr>`)}</tbody></table>`;
}

function field(id: string, label: string, control: SafeHtml): SafeHtml {
  return html`<div class="field"><label for="${id}">${label}</label>${control}</div>`;
}

/** The products page: the filter form (GET, so a filtered view is a link) and one page of results. */
export function productsPage(ctx: ViewContext, f: ProductsFilterForm, types: readonly string[], rows: ProductSummaryRow[], next: string | null): SafeHtml {
  const option = (value: string, current: string, label = value) => html`<option value="${value}"${value === current ? html` selected` : ''}>${label}</option>`;
  const nextQuery = new URLSearchParams(Object.entries({ ...f, cursor: next ?? '' }).filter(([, v]) => v !== '')).toString();
  return layout(ctx, 'Products', html`
<form method="get" action="${BASE}/products" class="filters" role="search" aria-label="Filter products">
${field('f-state', 'State', html`<select id="f-state" name="status">${option('', f.status, 'any')}${PRODUCT_STATUSES.map((s) => option(s, f.status))}</select>`)}
${field('f-type', 'Data type', html`<select id="f-type" name="data_type">${option('', f.data_type, 'any')}${types.map((t) => option(t, f.data_type))}</select>`)}
${field('f-error', 'Error class', html`<input id="f-error" name="error_class" value="${f.error_class}" placeholder="checksum_mismatch">`)}
${field('f-since', 'Registered from (UTC)', html`<input id="f-since" name="since" type="datetime-local" value="${f.since}">`)}
${field('f-until', 'Registered before (UTC)', html`<input id="f-until" name="until" type="datetime-local" value="${f.until}">`)}
${field('f-id', 'data_id starts with', html`<input id="f-id" name="data_id" value="${f.data_id}">`)}
${field('f-meta', 'Metadata key=value', html`<input id="f-meta" name="metadata" value="${f.metadata}" placeholder="field=3C286">`)}
<div class="field"><button type="submit">Filter</button> <a href="${BASE}/products">Clear</a></div>
</form>
<p class="hint">Newest first.</p>
${productTable(rows)}
${next ? html`<p><a rel="next" href="${BASE}/products?${nextQuery}">Older products →</a></p>` : ''}`);
}
