import fs from 'node:fs';
import path from 'node:path';

// The publishing repository (this folder) is the only code that writes products.status or inserts
// into the event log. This scan of every source file under services/ fails on any other writer.
const SERVICES = path.resolve(__dirname, '../../..');
const HOME = path.resolve(__dirname);

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) {
      if (e.name !== 'node_modules' && e.name !== 'migrations') out.push(...sourceFiles(p));
    } else if (/\.(ts|sql|js|mjs)$/.test(e.name) && !/\.test\.ts$/.test(e.name)) {
      out.push(p);
    }
  }
  return out;
}

/** The state writes in a piece of source text: status set by an UPDATE, a row inserted into products, an event inserted. */
export function stateWrites(text: string): string[] {
  const found: string[] = [];
  for (const m of text.matchAll(/\bINSERT\s+INTO\s+product_events\b/gi)) found.push(m[0]);
  for (const m of text.matchAll(/\bINSERT\s+INTO\s+products\b/gi)) found.push(m[0]);
  for (const m of text.matchAll(/\bUPDATE\s+products\b[^`;]*/gi)) {
    const set = /\bSET\b([\s\S]*?)(?:\bWHERE\b|\bFROM\b|\bRETURNING\b|$)/i.exec(m[0]);
    if (set && /(^|[\s,(])(\w+\.)?status\s*=/i.test(set[1]!)) found.push(m[0].split('\n')[0]!);
  }
  return found;
}

describe('the publishing repository is the only writer of the product state', () => {
  it('recognises each kind of state write', () => {
    expect(stateWrites("`UPDATE products SET status = 'failed' WHERE id = $1`")).toHaveLength(1);
    expect(stateWrites('`UPDATE products p\n SET publish_error = NULL, p.status = $2 FROM x`')).toHaveLength(1);
    expect(stateWrites('`INSERT INTO product_events (product_id) VALUES ($1)`')).toHaveLength(1);
    expect(stateWrites('`insert into products (data_id) values ($1)`')).toHaveLength(1);
    expect(stateWrites("`UPDATE products SET lease_expires_at = now() WHERE status = 'publishing'`")).toEqual([]);
  });

  it('finds no state write outside services/core/repositories/product-state', () => {
    const files = sourceFiles(SERVICES);
    expect(files.length).toBeGreaterThan(50);
    const offenders = files
      .filter((f) => !f.startsWith(HOME + path.sep))
      .flatMap((f) => stateWrites(fs.readFileSync(f, 'utf8')).map((w) => `${path.relative(SERVICES, f)}: ${w}`));
    expect(offenders).toEqual([]);
  });

  it('finds the writes it guards inside the repository', () => {
    const inside = fs.readdirSync(HOME).filter((f) => f.endsWith('.transitions.ts') || f === 'event-insert.ts');
    const writes = inside.flatMap((f) => stateWrites(fs.readFileSync(path.join(HOME, f), 'utf8')));
    expect(writes.filter((w) => /product_events/i.test(w))).toHaveLength(1);
    expect(writes.filter((w) => /^UPDATE/i.test(w)).length).toBeGreaterThanOrEqual(7);
  });
});
