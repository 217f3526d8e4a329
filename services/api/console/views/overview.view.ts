import type { ConsoleOverview } from '../../../core/domain/console/console-overview';
import { PRODUCT_STATUSES } from '../../../core/repositories/product.types';
import { historyChart } from './chart.view';
import { formatAge, formatBytes, formatCount, formatTime } from './format';
import { html, type SafeHtml } from './html';
import { BASE, layout } from './layout.view';
import type { ViewContext } from './view-context';

/** The part of the overview that the event stream replaces every few seconds. */
export function overviewLive(o: ConsoleOverview): SafeHtml {
  const now = o.generated_at.getTime();
  const staged = o.oldest_staged
    ? html`<a href="${BASE}/products/${encodeURIComponent(o.oldest_staged.data_id)}">${o.oldest_staged.data_id}</a>, waiting ${formatAge((now - o.oldest_staged.staged_at.getTime()) / 1000)}`
    : 'none waiting';
  const workers = o.workers.length
    ? o.workers.map((w) => html`<tr><td>${w.instance}</td><td>${formatTime(w.at)} (${w.age_seconds} s ago)</td><td>${
      w.copying.length ? w.copying.map((c) => html`<a href="${BASE}/products/${encodeURIComponent(c.data_id)}">${c.data_id}</a> (${formatBytes(c.size_bytes)}, since ${formatTime(c.since)}) `) : 'idle'}</td></tr>`)
    : html`<tr><td colspan="3">No worker has sent a heartbeat recently.</td></tr>`;
  return html`<section aria-labelledby="counts-h"><h2 id="counts-h">Products by state</h2>
<dl class="counts">${PRODUCT_STATUSES.map((s) => html`<div class="count state-${s}"><dt><a href="${BASE}/products?status=${s}">${s}</a></dt><dd data-state="${s}">${formatCount(o.counts[s])}</dd></div>`)}</dl>
<p>Oldest staged product: ${staged}.</p>
<p>Publishing: <strong>running</strong> (pause and resume come with the lifecycle verbs).</p>
</section>
<section aria-labelledby="workers-h"><h2 id="workers-h">Workers</h2>
<table><thead><tr><th scope="col">Instance</th><th scope="col">Last heartbeat</th><th scope="col">Copying</th></tr></thead><tbody>${workers}</tbody></table>
${o.unowned_copies.length ? html`<p>Copies whose worker sends no heartbeat: ${o.unowned_copies.map((c) => html`${c.data_id} (${c.lease_owner ?? 'no owner'}) `)}</p>` : ''}
</section>
<p class="updated">Updated ${formatTime(o.generated_at)}.</p>`;
}

/** The overview page. The live part is wrapped in the one event-stream connection of this tab. */
export function overviewPage(ctx: ViewContext, o: ConsoleOverview): SafeHtml {
  const total = o.history.reduce((a, h) => ({ publishes: a.publishes + h.publishes, bytes: a.bytes + h.bytes }), { publishes: 0, bytes: 0 });
  return layout(ctx, 'Overview', html`
<div hx-ext="sse" sse-connect="${BASE}/events?topic=overview"><div id="overview-live" sse-swap="overview">${overviewLive(o)}</div></div>
<section aria-labelledby="history-h"><h2 id="history-h">Publishes in the last 24 hours</h2>
<p>${formatCount(total.publishes)} publishes, ${formatBytes(total.bytes)}.</p>
${historyChart(o.history)}
<details><summary>The figures as a table</summary>
<table><thead><tr><th scope="col">Hour (UTC)</th><th scope="col">Publishes</th><th scope="col">Bytes</th></tr></thead>
<tbody>${o.history.map((h) => html`<tr><td>${h.hour.toISOString().slice(0, 13)}:00</td><td>${h.publishes}</td><td>${formatBytes(h.bytes)}</td></tr>`)}</tbody></table>
</details>
</section>
${ctx.grafanaUrl ? html`<section aria-labelledby="grafana-h"><h2 id="grafana-h">Trends in Grafana</h2><ul>
<li><a href="${ctx.grafanaUrl}/d/ferry-publishing">Publishing</a></li><li><a href="${ctx.grafanaUrl}/d/ferry-api">API</a></li><li><a href="${ctx.grafanaUrl}/d/ferry-infrastructure">Infrastructure</a></li></ul></section>` : ''}`);
}
