import path from 'node:path';
import type { Descendant } from '../../../core/domain/lifecycle/retract-product';
import type { ManifestEntry, ProductEventRow, ProductRow } from '../../../core/repositories/product.types';
import { liveTag } from '../live/live-hub';
import { formatBytes, formatTime } from './format';
import { html, type SafeHtml } from './html';
import { actionButton, BASE, csrfField, layout } from './layout.view';
import type { ViewContext } from './view-context';

/** Paths as the operator's host names the two data roots. */
export interface HostPaths {
  stage: string;
  products: string;
}

/** A verb's form with a reason field (and any extra controls), posting to `action`. */
function reasonForm(ctx: ViewContext, action: string, id: string, label: string, opts: { required?: boolean; extra?: SafeHtml; danger?: boolean } = {}): SafeHtml {
  return html`<form method="post" action="${action}" class="verb">${csrfField(ctx)}
<label for="${id}-reason">Reason${opts.required ? '' : ' (optional)'}</label> <input id="${id}-reason" name="reason" maxlength="2000"${opts.required ? html` required` : ''}>
${opts.extra ?? ''}<button type="submit"${opts.danger ? html` class="danger"` : ''}>${label}</button></form>`;
}

/** The verbs this product's state allows, shown only to a token that may use them (every verb needs admin). */
function verbs(ctx: ViewContext, p: ProductRow): SafeHtml {
  if (!ctx.can('admin')) return html``;
  const at = `${BASE}/products/${encodeURIComponent(p.data_id)}`;
  const held = p.status === 'staging' && p.held;
  const list: SafeHtml[] = [];
  if (p.status === 'failed') list.push(actionButton(ctx, `${at}/retry`, 'Retry'));
  if (held) list.push(reasonForm(ctx, `${at}/release`, 'release', 'Release (publish now)'));
  if (p.status === 'staging' && !held) list.push(reasonForm(ctx, `${at}/hold`, 'hold', 'Hold'));
  if (p.status === 'failed' || p.status === 'staging') {
    list.push(html`<form method="post" action="${at}/amend" class="verb">${csrfField(ctx)}
<label for="amend-sha">Expected SHA-256</label> <input id="amend-sha" name="expected_sha256" value="${p.expected_sha256 ?? ''}" pattern="[0-9a-fA-F]{64}|" size="40">
<label for="amend-reason">Reason</label> <input id="amend-reason" name="reason" maxlength="2000" required>
<button type="submit">Amend</button></form>`);
  }
  if (p.status === 'failed' || held) {
    list.push(reasonForm(ctx, `${at}/discard`, 'discard', 'Discard', {
      required: true, danger: true,
      extra: html`<label><input type="checkbox" name="remove_source" value="true"> also remove the staged source</label> `,
    }));
  }
  if (p.status === 'published') list.push(reasonForm(ctx, `${at}/retract`, 'retract', 'Retract', { required: true, danger: true }));
  if (!list.length) return html``;
  return html`<section aria-labelledby="verbs-h"><h2 id="verbs-h">Actions</h2><div class="verbs">${list}</div></section>`;
}

/** Summary, verbs and timeline: the part the event stream keeps current. */
export function productLive(ctx: ViewContext, p: ProductRow, events: ProductEventRow[], host: HostPaths): SafeHtml {
  const held = p.status === 'staging' && p.held;
  const match = p.expected_sha256 && p.checksum_sha256 ? (p.expected_sha256 === p.checksum_sha256 ? 'match' : 'MISMATCH') : '';
  return html`<dl class="facts">
<div><dt>State</dt><dd><span class="state state-${p.status}" id="product-state">${p.status}${held ? ' (held)' : ''}</span></dd></div>
<div><dt>Data type</dt><dd>${p.data_type}</dd></div>
<div><dt>Kind</dt><dd>${p.kind}</dd></div>
<div><dt>Size</dt><dd>${formatBytes(p.size_bytes)}${p.size_bytes !== null ? ` (${p.size_bytes} bytes)` : ''}</dd></div>
<div><dt>Files</dt><dd>${p.file_count ?? '—'}</dd></div>
<div><dt>Attempts</dt><dd>${p.publish_attempts}</dd></div>
<div><dt>Expected SHA-256</dt><dd><code>${p.expected_sha256 ?? 'not given'}</code></dd></div>
<div><dt>Actual SHA-256</dt><dd><code>${p.checksum_sha256 ?? 'not computed yet'}</code> ${match}</dd></div>
<div><dt>Stage path (host)</dt><dd><code>${path.posix.join(host.stage, p.stage_path)}</code></dd></div>
<div><dt>Archive path (host)</dt><dd><code>${path.posix.join(host.products, p.published_path ?? p.destination_path)}</code>${p.published_path ? '' : ' (once published)'}</dd></div>
${p.retracted_path ? html`<div><dt>Retracted to (host)</dt><dd><code>${path.posix.join(host.products, p.retracted_path)}</code></dd></div>` : ''}
<div><dt>Registered</dt><dd>${formatTime(p.created_at)}</dd></div>
<div><dt>Published</dt><dd>${formatTime(p.published_at)}</dd></div>
${p.error_class ? html`<div class="cause"><dt>Error class</dt><dd>${p.error_class}</dd></div><div class="cause"><dt>Cause</dt><dd id="product-error">${p.publish_error ?? ''}</dd></div>` : ''}
</dl>
${verbs(ctx, p)}
<section aria-labelledby="timeline-h"><h2 id="timeline-h">Timeline</h2>
<ol class="timeline">${events.map((e) => html`<li><time datetime="${e.created_at.toISOString()}">${formatTime(e.created_at)}</time> <strong>${e.event}</strong> ${e.from_status ?? '—'} → ${e.to_status}, attempt ${e.attempt}${e.worker ? html`, worker ${e.worker}` : ''}${e.bytes !== null ? html`, ${formatBytes(e.bytes)}` : ''}${e.duration_ms !== null ? html` in ${e.duration_ms} ms` : ''}${e.error ? html`<br><span class="error">${e.error_class ?? ''}: ${e.error}</span>` : ''}</li>`)}</ol>
</section>`;
}

/** Links to the product this one corrects and the one that corrects it, when there are any. */
function corrections(p: ProductRow, supersededBy: string | undefined): SafeHtml {
  if (!p.supersedes && !supersededBy) return html``;
  const link = (id: string) => html`<a href="${BASE}/products/${encodeURIComponent(id)}"><code>${id}</code></a>`;
  return html`<section aria-labelledby="corrections-h"><h2 id="corrections-h">Corrections</h2><dl class="facts">
${p.supersedes ? html`<div><dt>Supersedes</dt><dd id="product-supersedes">${link(p.supersedes)}</dd></div>` : ''}
${supersededBy ? html`<div><dt>Superseded by</dt><dd id="product-superseded-by">${link(supersededBy)}</dd></div>` : ''}
</dl></section>`;
}

/** A retracted product's descendants, which may need retracting too. */
function derived(review: { descendants: Descendant[]; truncated: boolean } | undefined): SafeHtml {
  if (!review) return html``;
  const { descendants, truncated } = review;
  return html`<section aria-labelledby="derived-h"><h2 id="derived-h">Derived from this product</h2>
${descendants.length === 0 ? html`<p>Nothing was derived from it.</p>` : html`<p>These may need retracting too${truncated ? ` (the first ${descendants.length}; ferryctl lineage --descendants lists all)` : ''}.</p>
<table><thead><tr><th scope="col">Depth</th><th scope="col">Product</th><th scope="col">Type</th><th scope="col">State</th></tr></thead>
<tbody>${descendants.map((d) => html`<tr><td>${d.depth}</td><td><a href="${BASE}/products/${encodeURIComponent(d.data_id)}"><code>${d.data_id}</code></a></td><td>${d.data_type}</td><td><span class="state state-${d.status}">${d.status}</span></td></tr>`)}</tbody></table>`}
</section>`;
}

/** What the product page shows beyond the product itself: its successor, and for a retracted one its descendants. */
export interface ProductRelations {
  supersededBy?: string;
  review?: { descendants: Descendant[]; truncated: boolean };
}

/** The product page: live part, corrections, derived products, metadata and the manifest page by page. */
export function productPage(
  ctx: ViewContext,
  p: ProductRow,
  events: ProductEventRow[],
  host: HostPaths,
  manifest: { total: number; entries: ManifestEntry[]; offset: number; pageSize: number },
  relations: ProductRelations = {},
): SafeHtml {
  const at = `${BASE}/products/${encodeURIComponent(p.data_id)}`;
  const { total, entries, offset, pageSize } = manifest;
  const live = productLive(ctx, p, events, host);
  return layout(ctx, `Product ${p.data_id}`, html`
<div hx-ext="sse" sse-connect="${BASE}/events?topic=${encodeURIComponent(`product:${p.data_id}`)}&amp;seen=${liveTag(live.value)}"><div id="product-live" sse-swap="product">${live}</div></div>
${corrections(p, relations.supersededBy)}
${derived(relations.review)}
<section aria-labelledby="metadata-h"><h2 id="metadata-h">Metadata</h2>
${Object.keys(p.metadata).length ? html`<dl class="facts">${Object.entries(p.metadata).map(([k, v]) => html`<div><dt>${k}</dt><dd>${typeof v === 'string' ? v : JSON.stringify(v)}</dd></div>`)}</dl>` : html`<p>None.</p>`}
</section>
<section aria-labelledby="manifest-h"><h2 id="manifest-h">Manifest</h2>
${total === 0 ? html`<p>${p.kind === 'file' ? 'A single file: its digest is the actual SHA-256 above.' : 'Not recorded yet (written when the product is published).'}</p>` : html`
<p>Files ${offset + 1}–${offset + entries.length} of ${total}.</p>
<table><thead><tr><th scope="col">Path</th><th scope="col">Size</th><th scope="col">SHA-256</th></tr></thead>
<tbody>${entries.map((e) => html`<tr><td><code>${e.path}</code></td><td>${formatBytes(e.size)}</td><td><code>${e.sha256}</code></td></tr>`)}</tbody></table>
<p>${offset > 0 ? html`<a href="${at}?files=${Math.max(0, offset - pageSize)}">← Previous files</a> ` : ''}${offset + entries.length < total ? html`<a href="${at}?files=${offset + pageSize}">Next files →</a>` : ''}</p>`}
</section>`);
}
