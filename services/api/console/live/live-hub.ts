import { createHash } from 'node:crypto';
import type { Request, Response } from 'express';

/** One open event stream: renders the topic's data for its own viewer (scopes, CSRF token). */
interface Subscriber<T> {
  res: Response;
  render(data: T): { event: string; html: string };
  /** liveTag of the fragment this viewer has: the last one sent, or the one its page was rendered with. */
  last?: string;
}

/**
 * A short digest of a live fragment. A page puts the tag of the fragment it was rendered with in
 * its stream's URL (`seen`), so the stream's first message is sent only if something changed since:
 * a fragment swapped in for nothing would wipe what the operator had begun typing into its forms.
 */
export function liveTag(fragment: string): string {
  return createHash('sha256').update(fragment).digest('hex').slice(0, 32);
}

interface Topic<T> {
  subscribers: Set<Subscriber<T>>;
}

export interface LiveHubOptions<T> {
  /** Loads a topic's data once per tick for all its subscribers; undefined = no such topic. */
  load(topic: string): Promise<T | undefined>;
  intervalMs: number;
  /** Comment lines sent this often keep idle proxies from closing the stream. */
  keepAliveMs?: number;
  /** Most topics watched at once per process (each costs its queries per tick). */
  maxTopics?: number;
  onError(err: unknown): void;
}

/** One Server-Sent Events message; every line of the fragment gets its own `data:` field. */
export function sseMessage(event: string, fragment: string): string {
  return `event: ${event}\n${fragment.split('\n').map((l) => `data: ${l}`).join('\n')}\n\n`;
}

/**
 * Live updates for the console's pages by Server-Sent Events. Each tab opens one stream on one
 * topic (the overview, or a product). The hub loads each watched topic once per tick, however many
 * tabs watch it, and sends a subscriber a fragment only when its rendering changed: no query at
 * all while nobody watches, and no polling from the browsers.
 */
export class LiveHub<T> {
  private readonly topics = new Map<string, Topic<T>>();
  private timer: NodeJS.Timeout | undefined;
  private keepAlive: NodeJS.Timeout | undefined;
  private ticking = false;
  private closed = false;

  constructor(private readonly o: LiveHubOptions<T>) {}

  /**
   * Streams `topic` to this response until the client goes away or the hub closes. `seen` is the
   * liveTag of the fragment the viewer's page already shows: not sent again.
   */
  async subscribe(req: Request, res: Response, topic: string, render: Subscriber<T>['render'], seen?: string): Promise<boolean> {
    if (this.closed) return false;
    if (!this.topics.has(topic) && this.topics.size >= (this.o.maxTopics ?? 1000)) return false;
    const data = await this.o.load(topic);
    if (data === undefined) return false;
    res.status(200);
    res.setHeader('Content-Type', 'text/event-stream; charset=utf-8');
    res.setHeader('Cache-Control', 'no-store');
    // Belt and braces: nginx's console event location already turns buffering off.
    res.setHeader('X-Accel-Buffering', 'no');
    res.flushHeaders();
    req.socket.setKeepAlive(true);
    req.socket.setTimeout(0);
    const sub: Subscriber<T> = { res, render, last: seen };
    let t = this.topics.get(topic);
    if (!t) {
      t = { subscribers: new Set() };
      this.topics.set(topic, t);
    }
    t.subscribers.add(sub);
    res.write('retry: 3000\n\n');
    this.send(sub, data);
    res.on('close', () => {
      const current = this.topics.get(topic);
      current?.subscribers.delete(sub);
      if (current && current.subscribers.size === 0) this.topics.delete(topic);
      if (this.topics.size === 0) this.stop();
    });
    this.start();
    return true;
  }

  /** Streams open right now (for tests and the shutdown log). */
  get streamCount(): number {
    let n = 0;
    for (const t of this.topics.values()) n += t.subscribers.size;
    return n;
  }

  /** Ends every stream and stops ticking; idempotent. Called first on shutdown so draining is not held up. */
  close(): void {
    this.closed = true;
    this.stop();
    for (const t of this.topics.values()) for (const s of t.subscribers) s.res.end();
    this.topics.clear();
  }

  private send(sub: Subscriber<T>, data: T): void {
    const { event, html } = sub.render(data);
    const tag = liveTag(html);
    if (tag === sub.last) return;
    sub.last = tag;
    sub.res.write(sseMessage(event, html));
  }

  private start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.tick(), this.o.intervalMs);
    this.keepAlive = setInterval(() => {
      for (const t of this.topics.values()) for (const s of t.subscribers) s.res.write(': keep-alive\n\n');
    }, this.o.keepAliveMs ?? 15000);
  }

  private stop(): void {
    clearInterval(this.timer);
    clearInterval(this.keepAlive);
    this.timer = undefined;
    this.keepAlive = undefined;
  }

  private async tick(): Promise<void> {
    // A slow database must not stack ticks on top of one another.
    if (this.ticking) return;
    this.ticking = true;
    try {
      for (const [name, t] of [...this.topics]) {
        try {
          const data = await this.o.load(name);
          if (data !== undefined) for (const s of t.subscribers) this.send(s, data);
        } catch (err) {
          // A failed load (database briefly away) skips this tick; the streams stay open.
          this.o.onError(err);
        }
      }
    } finally {
      this.ticking = false;
    }
  }
}
