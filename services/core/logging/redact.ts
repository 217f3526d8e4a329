/** Keys whose values never reach a log line. */
const SECRET_KEY = /authorization|token|password|passwd|secret|cookie|database_?url|redis_?url|connection_?string/i;
/** Credentials inside a URL (postgres://user:pass@host). */
const URL_CREDENTIALS = /([a-z][a-z0-9+.-]*:\/\/)([^/\s:@]+):([^/\s@]+)@/gi;

/** Returns a copy of a log field with secrets replaced, errors serialised with name, message and stack. */
export function redact(value: unknown, depth = 0): unknown {
  if (depth > 6) return '[depth]';
  if (typeof value === 'string') return value.replace(URL_CREDENTIALS, '$1$2:[redacted]@');
  if (value instanceof Error) {
    const code = (value as NodeJS.ErrnoException).code;
    return {
      name: value.name,
      message: redact(value.message, depth + 1),
      stack: redact(value.stack, depth + 1),
      ...(code ? { code } : {}),
    };
  }
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      out[k] = SECRET_KEY.test(k) && k !== 'token_name' ? '[redacted]' : redact(v, depth + 1);
    }
    return out;
  }
  return value;
}
