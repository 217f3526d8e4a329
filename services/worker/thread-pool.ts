// Imported first by main.ts: libuv sizes its thread pool on first use. A worker keeps several
// file copies in flight, each with reads, writes and an fsync that can block a thread for
// milliseconds; the default 4 threads would queue them behind one another. An operator's own
// UV_THREADPOOL_SIZE wins.
process.env.UV_THREADPOOL_SIZE ??= '16';

export {};
