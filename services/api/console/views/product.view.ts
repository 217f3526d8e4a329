import path from 'node:path';
import type { ManifestEntry, ProductEventRow, ProductRow } from '../../../core/repositories/product.types';
import { formatBytes, formatTime } from './format';
import { html, type SafeHtml } from './html';
import { actionButton, BASE, layout } from './layout.view';
import type { ViewContext } from './view-context';

/** Paths as the operator's host names the two data roots. */
export interface HostPaths {
  stage: string;
  products: string;
}

/** The verbs this product's state allows, each shown only to a token that may use it. */
function verbs(ctx: ViewContext, p: ProductRow): SafeHtml {
  const at = `${BASE}/products/${encodeURIComponent(p.data_id)}`;
  const list: SafeHtml[] = [];
  if (p.status === 'failed' && ctx.can('admin')) list.push(actionButton(ctx, `${at}/retry`, 'Retry'));
  if (p.status === 'staging' && p.next_attempt_at === null && ctx.can('publish')) list.push(actionButton(ctx, `${at}/release`, 'Release (publish now)'));
  if (!list.length) return html``;
  return html`<section aria-labelledby="verbs-h"><h2 id="verbs-h">Actions</h2><div class="verbs">${list}</div></section>`;
}

/** Summary, verbs and timeline: the part the event stream keeps current. */
export function productLive(ctx: ViewContext, p: ProductRow, events: ProductEventRow[], host: HostPaths): SafeHtml {
  const held = p.status === 'staging' && p.next_attempt_at === null;
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
<div><dt>Registered</dt><dd>${formatTime(p.created_at)}</dd></div>
<div><dt>Published</dt><dd>${formatTime(p.published_at)}</dd></div>
${p.error_class ? html`<div class="cause"><dt>Error class</dt><dd>${p.error_class}</dd></div><div class="cause"><dt>Cause</dt><dd id="product-error">${p.publish_error ?? ''}</dd></div>` : ''}
</dl>
${verbs(ctx, p)}
<section aria-labelledby="timeline-h"><h2 id="timeline-h">Timeline</h2>
<ol class="timeline">${events.map((e) => html`<li><time datetime="${e.created_at.toISOString()}">${formatTime(e.created_at)}</time> <strong>${e.event}</strong> ${e.from_status ?? '—'} → ${e.to_status}, attempt ${e.attempt}${e.worker ? html`, worker ${e.worker}` : ''}${e.bytes !== null ? html`, ${formatBytes(e.bytes)}` : ''}${e.duration_ms !== null ? html` in ${e.duration_ms} ms` : ''}${e.error ? html`<br><span class="error">${e.error_class ?? ''}: ${e.error}</span>` : ''}</li>`)}</ol>
</section>`;
}

/** The product page: live part, metadata and the manifest page by page. */
export function productPage(
  ctx: ViewContext,
  p: ProductRow,
  events: ProductEventRow[],
  host: HostPaths,
  manifest: { total: number; entries: ManifestEntry[]; offset: number; pageSize: number },
): SafeHtml {
  const at = `${BASE}/products/${encodeURIComponent(p.data_id)}`;
  const { total, entries, offset, pageSize } = manifest;
  return layout(ctx, `Product ${p.data_id}`, html`
<div hx-ext="sse" sse-connect="${BASE}/events?topic=${encodeURIComponent(`product:${p.data_id}`)}"><div id="product-live" sse-swap="product">${productLive(ctx, p, events, host)}</div></div>
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
