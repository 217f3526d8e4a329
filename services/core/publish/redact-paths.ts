/**
 * Makes a failure text safe to store and show to any read token: the data roots become
 * `STAGE_ROOT` / `PRODUCTS_ROOT`, handle paths (`/proc/self/fd/N/`) vanish, and any other absolute
 * path left (from an errno message, say) becomes `<path>`. The full text goes to the logs only.
 */
export function redactServerPaths(message: string, roots: { stageRoot: string; productsRoot: string }): string {
  let m = message;
  // Longest first, so a root nested in the other's path is replaced whole.
  const named = [
    { root: roots.stageRoot, name: 'STAGE_ROOT' },
    { root: roots.productsRoot, name: 'PRODUCTS_ROOT' },
  ].sort((a, b) => b.root.length - a.root.length);
  for (const { root, name } of named) m = m.split(root).join(name);
  m = m.replace(/\/proc\/self\/fd\/\d+\/?/g, '');
  return m.replace(/(^|[\s'"`(=,:;[])\/[^\s'"`),;\]]*/g, '$1<path>');
}
