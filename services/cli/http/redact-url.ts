/** Query parameters whose values are credentials: printed as `***`. */
const SECRET_PARAMS = /^(?:token|access_token|api_key|apikey|key|password|passwd|secret|auth|authorization|sig|signature)$/i;
const MASK = '***';

/**
 * A URL as ferryctl may print it: `user:password@` becomes `***@` and credential-like query
 * parameters (`token=`, `access_token=`, `password=` …) become `***`. A string that is not a URL
 * is scrubbed by pattern instead, so even a malformed --url never echoes a secret.
 */
export function redactUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return redactCredentials(raw);
  }
  const secretParams = [...url.searchParams.keys()].filter((name) => SECRET_PARAMS.test(name));
  // Nothing to hide: print the URL exactly as given.
  if (!url.username && !url.password && secretParams.length === 0) return raw;
  if (url.username || url.password) {
    url.username = MASK;
    url.password = '';
  }
  for (const name of secretParams) url.searchParams.set(name, MASK);
  return url.toString().replace(/%2A%2A%2A/g, MASK);
}

/** Scrubs `scheme://user:password@` and `token=value`-style pairs anywhere in a line of text. */
export function redactCredentials(text: string): string {
  return text
    .replace(/(\b[a-z][a-z0-9+.-]*:\/\/)[^/\s@]*@/gi, `$1${MASK}@`)
    .replace(/([?&;\s](?:token|access_token|api_key|apikey|key|password|passwd|secret|auth|authorization|sig|signature)=)([^&\s#]*)/gi, (all, name: string, value: string) =>
      // Already masked (redactUrl ran first): leave what follows the mask alone.
      value.startsWith(MASK) ? all : `${name}${MASK}`);
}
