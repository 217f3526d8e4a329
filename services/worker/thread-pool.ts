import os from 'node:os';

// Imported first by main.ts: libuv sizes its thread pool on first use. A worker keeps several file
// copies in flight, each with reads, writes and an fsync that can block a thread for milliseconds,
// so the pool needs more threads than libuv's default of 4 once there are cores to run them; but
// every extra thread costs wake-ups and lock contention on each of the many small file operations
// a product takes. On the 2-core bench machine 4 threads took the worker's CPU per small product
// from 2.4 to 1.8 ms (groups) against 16, and 8 were no better than 16 (docs/performance.md).
// Two per core, at least 4; an operator's own UV_THREADPOOL_SIZE wins.
process.env.UV_THREADPOOL_SIZE ??= String(Math.max(4, 2 * os.availableParallelism()));

export {};
