import express from 'express';

// The bare route the api part measures Ferry against: the same Express, one route, in a process of
// its own (as Ferry's api is), so the load generator never shares its event loop. Prints its port.
const server = express()
  .get(/.*/, (_req, res) => {
    res.json({ hello: 'world' });
  })
  .listen(0, '127.0.0.1', () => {
    process.stdout.write(`${(server.address() as { port: number }).port}\n`);
  });
process.on('SIGTERM', () => server.close(() => process.exit(0)));
