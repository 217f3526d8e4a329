import fs from 'node:fs';

/** A data root as messages name it: `STAGE_ROOT` for /srv/ferry/stage. */
export interface NamedRoot {
  name: string;
  path: string;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * The data roots under their configured and their real (symlink-resolved) paths, longest first so
 * a root nested in another is matched before its parent. Read once at start-up.
 */
export function namedRoots(paths: { stageRoot: string; productsRoot: string }): NamedRoot[] {
  const roots: NamedRoot[] = [];
  for (const [name, p] of [['STAGE_ROOT', paths.stageRoot], ['PRODUCTS_ROOT', paths.productsRoot]] as const) {
    const trimmed = p.length > 1 ? p.replace(/\/+$/, '') : p;
    roots.push({ name, path: trimmed });
    try {
      const real = fs.realpathSync(trimmed);
      if (real !== trimmed) roots.push({ name, path: real });
    } catch {
      // A root that is not mounted yet: its configured path is all a message can contain.
    }
  }
  return roots.filter((r) => r.path !== '/').sort((a, b) => b.path.length - a.path.length);
}

/**
 * Rewrites every absolute path under a data root into one relative to it (`STAGE_ROOT/img/a.fits`),
 * so a client never learns where the server keeps its data; the log keeps the full text.
 */
export function rootRelative(text: string, roots: readonly NamedRoot[]): string {
  let out = text;
  for (const root of roots) {
    if (!out.includes(root.path)) continue;
    // Only whole path components: /srv/stage must not rewrite /srv/stage2.
    out = out.replace(new RegExp(`${escapeRegExp(root.path)}(?=/|$|[^A-Za-z0-9._~+=@-])`, 'g'), root.name);
  }
  return out;
}
