import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Queryable } from '../../services/core/db/pool';
import type { NewProduct } from '../../services/core/repositories/product.repository';
import type { ProductKind, ProductRow } from '../../services/core/repositories/product.types';

/**
 * Inserts a product row in `staging`, due now (or held when due is false), without its
 * `registered` event: a fixture for tests that drive the worker, not the api. undefined when the
 * data_id or destination is taken.
 */
export async function insertProduct(db: Queryable, p: NewProduct): Promise<ProductRow | undefined> {
  const res = await db.query<ProductRow>(
    `INSERT INTO products (data_id, data_type, stage_path, destination_path, kind, size_bytes, file_count,
                           expected_sha256, metadata, held, due_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, NOT $10::boolean, CASE WHEN $10::boolean THEN now() END)
     ON CONFLICT DO NOTHING
     RETURNING *`,
    [p.data_id, p.data_type, p.stage_path, p.destination_path, p.kind, p.size_bytes, p.file_count, p.expected_sha256, p.metadata,
      p.due ?? true],
  );
  return res.rows[0];
}

/** sha256 hex of a buffer or string. */
export function sha256(data: string | Buffer): string {
  return crypto.createHash('sha256').update(data).digest('hex');
}

/** A directory product's files: relative path → content. */
export type TreeSpec = Record<string, string | Buffer>;

/**
 * Writes a product into the stage root (a file from `content`, or a directory from a TreeSpec)
 * and registers it the way the API does: `staging`, due now.
 */
export async function stageProduct(
  db: Queryable,
  stageRoot: string,
  rel: string,
  content: string | Buffer | TreeSpec,
  opts: { dataId?: string; dataType?: string; expectedSha256?: string | null } = {},
): Promise<ProductRow> {
  const target = path.join(stageRoot, rel);
  await fs.mkdir(path.dirname(target), { recursive: true });
  let kind: ProductKind;
  let size = 0;
  let count = 0;
  if (typeof content === 'string' || Buffer.isBuffer(content)) {
    kind = 'file';
    await fs.writeFile(target, content);
    size = Buffer.byteLength(content);
    count = 1;
  } else {
    kind = 'directory';
    await fs.mkdir(target, { recursive: true });
    for (const [name, data] of Object.entries(content)) {
      await fs.mkdir(path.dirname(path.join(target, name)), { recursive: true });
      await fs.writeFile(path.join(target, name), data);
      size += Buffer.byteLength(data);
      count++;
    }
  }
  const row = await insertProduct(db, {
    data_id: opts.dataId ?? rel.replace(/[^A-Za-z0-9_.-]/g, '_'),
    data_type: opts.dataType ?? (kind === 'file' ? 'image' : 'ms'),
    stage_path: rel,
    destination_path: rel,
    kind,
    size_bytes: size,
    file_count: count,
    expected_sha256: opts.expectedSha256 ?? null,
    metadata: {},
  });
  if (!row) throw new Error(`could not register ${rel}`);
  return row;
}

/** Every file and directory under root (relative paths, sorted), for "nothing else was left" assertions. */
export async function listTree(root: string): Promise<string[]> {
  const out: string[] = [];
  async function walk(dir: string, rel: string) {
    let entries: import('node:fs').Dirent[];
    try {
      entries = await fs.readdir(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      out.push(r);
      if (e.isDirectory()) await walk(path.join(dir, e.name), r);
    }
  }
  await walk(root, '');
  return out.sort();
}

/** The event names of one product, oldest first. */
export async function eventNames(db: Queryable, dataId: string): Promise<string[]> {
  const res = await db.query<{ event: string }>('SELECT event FROM product_events WHERE data_id = $1 ORDER BY id', [dataId]);
  return res.rows.map((r) => r.event);
}

/** A product row by data_id (throws when missing). */
export async function productRow(db: Queryable, dataId: string): Promise<ProductRow> {
  const res = await db.query<ProductRow>('SELECT * FROM products WHERE data_id = $1', [dataId]);
  if (!res.rows[0]) throw new Error(`no product ${dataId}`);
  return res.rows[0];
}
