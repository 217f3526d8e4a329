/**
 * Keeps a uniform random sample of at most `size` items from a stream of unknown length
 * (reservoir sampling), so `audit --sample N` never holds the whole product list.
 */
export class Reservoir<T> {
  private seen = 0;
  private readonly items: T[] = [];

  constructor(
    private readonly size: number,
    private readonly random: () => number = Math.random,
  ) {}

  /** Offers one item; it replaces a kept one with probability size/seen. */
  offer(item: T): void {
    this.seen++;
    if (this.items.length < this.size) {
      this.items.push(item);
      return;
    }
    const j = Math.floor(this.random() * this.seen);
    if (j < this.size) this.items[j] = item;
  }

  /** The sample so far. */
  get sample(): readonly T[] {
    return this.items;
  }

  /** How many items were offered. */
  get offered(): number {
    return this.seen;
  }
}
