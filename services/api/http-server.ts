import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Express } from 'express';

/** Node's keep-alive must outlast nginx's upstream keepalive_timeout (60 s) so nginx closes first. */
const KEEP_ALIVE_MS = 65000;

/**
 * Listens with the request timeouts applied: requestTimeout bounds receiving a whole request
 * (slow uploads, slowloris), headersTimeout the headers alone; the app's requestTimeout
 * middleware bounds the time to answer.
 */
export async function listen(app: Express, opts: { host: string; port: number; requestTimeoutMs: number }): Promise<http.Server> {
  const server = http.createServer(app);
  server.requestTimeout = opts.requestTimeoutMs;
  server.headersTimeout = Math.min(opts.requestTimeoutMs, 60000);
  server.keepAliveTimeout = KEEP_ALIVE_MS;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return server;
}

/** The port a listening server got (useful with port 0). */
export function boundPort(server: http.Server): number {
  return (server.address() as AddressInfo).port;
}

/**
 * Stops accepting connections and lets in-flight requests finish for up to graceMs; idle
 * keep-alive connections close at once, and whatever is still open after the grace is cut.
 * Resolves true when everything finished in time.
 */
export function drainServer(server: http.Server, graceMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    if (!server.listening) {
      resolve(true);
      return;
    }
    // A keep-alive connection becomes idle when its last response ends; close those as they appear.
    const sweep = setInterval(() => server.closeIdleConnections(), 100);
    const timer = setTimeout(() => {
      clearInterval(sweep);
      server.closeAllConnections();
      resolve(false);
    }, graceMs);
    timer.unref();
    server.close(() => {
      clearTimeout(timer);
      clearInterval(sweep);
      resolve(true);
    });
    server.closeIdleConnections();
  });
}
