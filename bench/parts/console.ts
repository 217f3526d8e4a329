import fs from 'node:fs/promises';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { ASSETS } from '../../services/api/console/console.router';
import { startFerry, type Ferry } from '../lib/ferry';
import type { BenchContext, PartResult, Row } from '../lib/result';
import { latencyAtTwoSizes } from '../lib/two-sizes';

const PAGES: [string, string][] = [
  ['GET /console/products', '/console/products'],
  ['GET /console/products?status=failed', '/console/products?status=failed'],
  ['GET /console/products?data_id=seed-12', '/console/products?data_id=seed-12'],
];

/** Signs in through the console's own form and returns the session cookie. */
async function signIn(ferry: Ferry): Promise<string> {
  const form = await fetch(`${ferry.url}/console/sign-in`);
  const pre = (form.headers.getSetCookie()[0] ?? '').split(';')[0]!;
  const csrf = /name="_csrf" value="([^"]+)"/.exec(await form.text())?.[1] ?? '';
  const res = await fetch(`${ferry.url}/console/sign-in`, {
    method: 'POST', redirect: 'manual', headers: { cookie: pre, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ _csrf: csrf, token: ferry.token }).toString(),
  });
  const session = res.headers.getSetCookie().find((c) => c.startsWith('__Host-ferry_console='));
  if (res.status !== 303 || !session) throw new Error(`console sign-in answered ${res.status}`);
  return session.split(';')[0]!;
}

/**
 * Part 6: the console's products page (rendered HTML, newest first, keyset) at 10,000 and at
 * scaleRows products, and the JavaScript the console ships (htmx and its SSE extension; no build).
 */
export async function consolePages(ctx: BenchContext): Promise<PartResult> {
  const ferry = await startFerry(path.join(ctx.workDir, 'console'), { worker: false });
  let measured;
  let peak;
  try {
    const cookie = await signIn(ferry);
    measured = await latencyAtTwoSizes(ferry, ctx, PAGES, { rate: 20, seconds: 5, connections: 2, headers: { cookie } });
    peak = await ferry.peakRss();
  } finally {
    await ferry.stop();
  }
  const { small } = measured;
  const withRatio: Row[] = [...measured.rows];
  const scripts = await Promise.all(Object.entries(ASSETS).filter(([, a]) => a.type === 'text/javascript').map(async ([name, a]) => ({ name, data: await fs.readFile(a.file) })));
  const jsBytes = scripts.reduce((n, s) => n + s.data.length, 0);
  const jsGzip = scripts.reduce((n, s) => n + gzipSync(s.data).length, 0);
  withRatio.push({ name: `JavaScript shipped (${scripts.map((s) => s.name).join(' + ')})`, bytes: jsBytes, gzip_bytes: jsGzip });
  return {
    part: 'console',
    title: `Console products page: ${small.toLocaleString('en')} vs ${ctx.scaleRows.toLocaleString('en')} products, 20 req/s direct to the api with a session, median of ${ctx.repeat} runs of 5 s`,
    baseline: `the same page's p99 at ${small.toLocaleString('en')} products`,
    rows: withRatio,
    peak_rss: peak,
    targets: [
      { name: 'products page p99 within 2 × of the 10,000-product figure', ok: withRatio.filter((r) => r.ratio !== undefined && !Number.isNaN(r.ratio)).every((r) => Number(r.ratio) <= 2) },
      { name: 'JavaScript shipped under 100 KB', ok: jsBytes < 100 * 1024 },
    ],
  };
}
