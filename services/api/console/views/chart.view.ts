import { formatBytes } from './format';
import { html, type SafeHtml } from './html';

const W = 720;
const H = 160;
const PAD = { left: 48, right: 56, top: 12, bottom: 28 };

/**
 * Publishes (bars) and bytes (line) per hour as an SVG drawn on the server: no chart library and
 * no script. Colours come from CSS classes (the CSP allows no inline style); the table after it
 * carries the same figures for screen readers and text browsers.
 */
export function historyChart(history: Array<{ hour: Date; publishes: number; bytes: number }>): SafeHtml {
  const maxCount = Math.max(1, ...history.map((h) => h.publishes));
  const maxBytes = Math.max(1, ...history.map((h) => h.bytes));
  const plotW = W - PAD.left - PAD.right;
  const plotH = H - PAD.top - PAD.bottom;
  const slot = plotW / Math.max(1, history.length);
  const bars = history.map((h, i) => {
    const bh = (h.publishes / maxCount) * plotH;
    const x = PAD.left + i * slot + slot * 0.15;
    return html`<rect class="bar" x="${x.toFixed(1)}" y="${(PAD.top + plotH - bh).toFixed(1)}" width="${(slot * 0.7).toFixed(1)}" height="${bh.toFixed(1)}"><title>${h.hour.toISOString().slice(11, 16)} UTC: ${h.publishes} publishes, ${formatBytes(h.bytes)}</title></rect>`;
  });
  const points = history.map((h, i) => `${(PAD.left + i * slot + slot / 2).toFixed(1)},${(PAD.top + plotH - (h.bytes / maxBytes) * plotH).toFixed(1)}`).join(' ');
  const labels = history.filter((_, i) => i % 4 === 0).map((h) => {
    const i = history.indexOf(h);
    return html`<text class="axis" x="${(PAD.left + i * slot + slot / 2).toFixed(1)}" y="${H - 8}" text-anchor="middle">${h.hour.toISOString().slice(11, 16)}</text>`;
  });
  return html`<figure class="chart">
<svg viewBox="0 0 ${W} ${H}" role="img" aria-labelledby="chart-title" xmlns="http://www.w3.org/2000/svg">
<title id="chart-title">Publishes (bars) and bytes (line) per hour, last ${history.length} hours</title>
<line class="grid" x1="${PAD.left}" y1="${PAD.top + plotH}" x2="${W - PAD.right}" y2="${PAD.top + plotH}"></line>
<text class="axis" x="${PAD.left - 6}" y="${PAD.top + 10}" text-anchor="end">${maxCount}</text>
<text class="axis" x="${PAD.left - 6}" y="${PAD.top + plotH}" text-anchor="end">0</text>
<text class="axis bytes" x="${W - PAD.right + 6}" y="${PAD.top + 10}">${formatBytes(maxBytes)}</text>
${bars}
<polyline class="line" points="${points}"></polyline>
${labels}
</svg>
<figcaption>Bars: publishes per hour (left axis). Line: bytes published per hour (right axis). Hours in UTC.</figcaption>
</figure>`;
}
