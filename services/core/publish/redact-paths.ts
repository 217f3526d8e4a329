import { namedRoots, rootRelative } from '../errors/root-relative';

/**
 * Makes a failure text safe to store and show to any read token: the data roots become
 * `STAGE_ROOT` / `PRODUCTS_ROOT`, handle paths (`/proc/self/fd/N/`) vanish, and any other absolute
 * path left (from an errno message, say) becomes `<path>`. The full text goes to the logs only.
 */
export function redactServerPaths(message: string, roots: { stageRoot: string; productsRoot: string }): string {
  // The roots by name (as configured and as resolved, whole path components only): the same rule the api's error bodies follow.
  let m = rootRelative(message, namedRoots(roots));
  m = m.replace(/\/proc\/self\/fd\/\d+\/?/g, '');
  return m.replace(/(^|[\s'"`(=,:;[])\/[^\s'"`),;\]]*/g, '$1<path>');
}
