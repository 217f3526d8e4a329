import { EventEmitter } from 'node:events';
import type { Request, Response } from 'express';
import { LiveHub, liveTag } from './live-hub';

/** A response that records what is written to it, and resolves `next` on each event message. */
function stream() {
  const written: string[] = [];
  let wake: (() => void) | undefined;
  const res = Object.assign(new EventEmitter(), {
    status: () => res,
    setHeader: () => res,
    flushHeaders: () => undefined,
    end: () => undefined,
    write(chunk: string) {
      written.push(chunk);
      if (chunk.startsWith('event:')) wake?.();
      return true;
    },
  });
  const req = { socket: { setKeepAlive: () => undefined, setTimeout: () => undefined } };
  const messages = () => written.filter((w) => w.startsWith('event:'));
  const next = () => new Promise<void>((resolve) => { wake = resolve; });
  return { req: req as unknown as Request, res: res as unknown as Response, messages, next, close: () => res.emit('close') };
}

describe('LiveHub', () => {
  let value = 'one';
  const hub = new LiveHub<string>({ load: async () => value, intervalMs: 5, onError: (err) => { throw err; } });
  const render = (v: string) => ({ event: 'product', html: `<p>${v}</p>` });
  afterAll(() => hub.close());

  it('sends a new stream the current fragment at once, unless its page was rendered with it (seen)', async () => {
    value = 'one';
    const fresh = stream();
    await hub.subscribe(fresh.req, fresh.res, 'product:a', render);
    expect(fresh.messages()).toEqual(['event: product\ndata: <p>one</p>\n\n']);

    // The page already shows <p>one</p>: swapping it in again would wipe what the operator typed.
    const seen = stream();
    await hub.subscribe(seen.req, seen.res, 'product:a', render, liveTag('<p>one</p>'));
    expect(seen.messages()).toEqual([]);

    // A page rendered with something older gets the current fragment at once.
    const stale = stream();
    await hub.subscribe(stale.req, stale.res, 'product:a', render, liveTag('<p>zero</p>'));
    expect(stale.messages()).toEqual(['event: product\ndata: <p>one</p>\n\n']);

    // A change reaches the stream that was not sent its first fragment.
    const changed = seen.next();
    value = 'two';
    await changed;
    expect(seen.messages()).toEqual(['event: product\ndata: <p>two</p>\n\n']);
    for (const s of [fresh, seen, stale]) s.close();
    expect(hub.streamCount).toBe(0);
  });
});
