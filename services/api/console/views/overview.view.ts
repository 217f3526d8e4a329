import type { ConsoleOverview } from '../../../core/domain/console/console-overview';
import type { WorkerCopy } from '../../../core/domain/monitoring/service-status';
import { PRODUCT_STATUSES } from '../../../core/repositories/product.types';
import { liveTag } from '../live/live-hub';
import { historyChart } from './chart.view';
import { formatAge, formatBytes, formatCount, formatTime } from './format';
import { html, type SafeHtml } from './html';
import { actionButton, BASE, csrfField, layout } from './layout.view';
import type { ViewContext } from './view-context';

/** "all data types" for the whole-service pause, else the type. */
function pauseScope(scope: string): string {
  return scope === '*' ? 'all data types' : `data type ${scope}`;
}

/** Whether publishing is paused, for whom and why (live). */
function pauseState(o: ConsoleOverview): SafeHtml {
  return o.paused.length
    ? html`<p class="paused" id="pause-state">Publishing is <strong>paused</strong> for ${o.paused.map((p) => html`${pauseScope(p.scope)} (by ${p.actor} at ${formatTime(p.paused_at)}: ${p.reason}) `)}</p>`
    : html`<p id="pause-state">Publishing is <strong>running</strong>.</p>`;
}

/**
 * The resume buttons and the pause form, for an admin. Outside the live part on purpose: a
 * fragment swapped every second would wipe a reason while it is being typed.
 */
function pauseControls(ctx: ViewContext, o: ConsoleOverview, types: readonly string[]): SafeHtml {
  if (!ctx.can('admin')) return html``;
  return html`<section aria-labelledby="pause-h"><h2 id="pause-h">Pause and resume</h2>
${o.paused.length ? html`<div class="verbs">${o.paused.map((p) => actionButton(ctx, `${BASE}/publishing/resume`, `Resume ${pauseScope(p.scope)}`, { fields: { scope: p.scope } }))}</div>` : ''}
<form method="post" action="${BASE}/publishing/pause" class="filters">${csrfField(ctx)}
<div class="field"><label for="pause-scope">Pause</label><select id="pause-scope" name="scope"><option value="*">all data types</option>${types.map((t) => html`<option value="${t}">${t}</option>`)}</select></div>
<div class="field"><label for="pause-reason">Reason</label><input id="pause-reason" name="reason" required maxlength="2000"></div>
<div class="field"><button type="submit">Pause publishing</button></div></form></section>`;
}

/** The part of the overview that the event stream replaces every second or so. */
export function overviewLive(o: ConsoleOverview): SafeHtml {
  const now = o.generated_at.getTime();
  const staged = o.oldest_staged
    ? html`<a href="${BASE}/products/${encodeURIComponent(o.oldest_staged.data_id)}">${o.oldest_staged.data_id}</a>, waiting ${formatAge((now - o.oldest_staged.staged_at.getTime()) / 1000)}`
    : 'none waiting';
  const copy = (c: WorkerCopy) => html`<li><a href="${BASE}/products/${encodeURIComponent(c.data_id)}">${c.data_id}</a>: ${formatBytes(c.copied_bytes)} of ${formatBytes(c.size_bytes)} at ${formatBytes(c.rate_bytes_per_sec)}/s${c.eta_seconds !== null ? html`, ${formatAge(c.eta_seconds)} left` : ''}</li>`;
  const workers = o.workers.length
    ? o.workers.map((w) => html`<tr><td>${w.instance}</td><td>${formatTime(w.last_seen)} (${w.age_seconds} s ago)</td><td>${w.copies.length ? html`<ul class="copies">${w.copies.map(copy)}</ul>` : 'idle'}</td><td>${w.bandwidth_limit_bytes_per_sec ? html`${formatBytes(w.bandwidth_limit_bytes_per_sec)}/s` : 'none'}</td></tr>`)
    : html`<tr><td colspan="4">No worker has sent a heartbeat recently.</td></tr>`;
  return html`<section aria-labelledby="counts-h"><h2 id="counts-h">Products by state</h2>
<dl class="counts">${PRODUCT_STATUSES.map((s) => html`<div class="count state-${s}"><dt><a href="${BASE}/products?status=${s}">${s}</a></dt><dd data-state="${s}">${formatCount(o.counts[s])}</dd></div>`)}</dl>
<p>Oldest staged product (held ones excluded): ${staged}.</p>
${pauseState(o)}
</section>
<section aria-labelledby="workers-h"><h2 id="workers-h">Workers</h2>
<table><thead><tr><th scope="col">Instance</th><th scope="col">Last heartbeat</th><th scope="col">Copying (bytes, rate, time left)</th><th scope="col">Bandwidth limit</th></tr></thead><tbody>${workers}</tbody></table>
</section>
<p class="updated">Updated ${formatTime(o.generated_at)}.</p>`;
}

/** The overview page. The live part is wrapped in the one event-stream connection of this tab. */
export function overviewPage(ctx: ViewContext, o: ConsoleOverview, types: readonly string[]): SafeHtml {
  const total = o.history.reduce((a, h) => ({ publishes: a.publishes + h.publishes, bytes: a.bytes + h.bytes }), { publishes: 0, bytes: 0 });
  const live = overviewLive(o);
  return layout(ctx, 'Overview', html`
<div hx-ext="sse" sse-connect="${BASE}/events?topic=overview&amp;seen=${liveTag(live.value)}"><div id="overview-live" sse-swap="overview">${live}</div></div>
${pauseControls(ctx, o, types)}
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
