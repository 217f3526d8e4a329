import type { StackClient, StackResponse } from './stack-client';

/** A Set-Cookie header's name, value and attributes (lower-cased names). */
export interface SetCookie {
  name: string;
  value: string;
  attributes: Map<string, string>;
}

/** Parses one Set-Cookie header. */
export function parseSetCookie(header: string): SetCookie {
  const [pair = '', ...attrs] = header.split(';').map((s) => s.trim());
  const eq = pair.indexOf('=');
  const attributes = new Map<string, string>();
  for (const a of attrs) {
    const i = a.indexOf('=');
    attributes.set((i < 0 ? a : a.slice(0, i)).toLowerCase(), i < 0 ? '' : a.slice(i + 1));
  }
  return { name: pair.slice(0, eq), value: pair.slice(eq + 1), attributes };
}

/** Whether a Set-Cookie header removes its cookie (an empty value or an expiry in the past). */
function removes(c: SetCookie): boolean {
  const expires = c.attributes.get('expires');
  return c.value === '' || c.attributes.get('max-age') === '0' || (expires !== undefined && Date.parse(expires) <= Date.now());
}

/**
 * A browser's view of the console through nginx: a cookie jar kept by hand (every cookie the
 * console sets is host-only with Path=/, so one jar per host is exact) and redirects not
 * followed, so each 303 and its Location can be asserted.
 */
export class ConsoleSession {
  readonly jar = new Map<string, string>();
  /** Every Set-Cookie the console sent, by cookie name, the newest last. */
  readonly setCookies = new Map<string, SetCookie>();

  constructor(private readonly client: StackClient) {}

  /** The Cookie header the jar sends. */
  cookieHeader(): string {
    return [...this.jar].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  async get(pathname: string): Promise<StackResponse> {
    return this.keep(await this.client.browse('GET', pathname, { cookie: this.cookieHeader() }));
  }

  async post(pathname: string, form: Record<string, string>): Promise<StackResponse> {
    return this.keep(await this.client.browse('POST', pathname, { cookie: this.cookieHeader(), form }));
  }

  private keep(res: StackResponse): StackResponse {
    const raw = res.headers['set-cookie'] ?? [];
    for (const header of raw) {
      const c = parseSetCookie(header);
      this.setCookies.set(c.name, c);
      if (removes(c)) this.jar.delete(c.name);
      else this.jar.set(c.name, c.value);
    }
    return res;
  }
}

/** The path a redirect points to (the console sends relative Locations; nginx may make them absolute). */
export function redirectPath(res: StackResponse): string | undefined {
  const location = res.headers.location;
  return location === undefined ? undefined : new URL(location, 'https://console.invalid').pathname;
}

/** The CSRF token of the first form on a console page. */
export function formCsrf(page: string): string {
  const m = /name="_csrf" value="([^"]+)"/.exec(page);
  if (!m?.[1]) throw new Error(`the page has no CSRF field: ${page.slice(0, 300)}`);
  return m[1];
}
