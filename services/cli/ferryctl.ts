#!/usr/bin/env node
import { runCli } from './program';

// The only place ferryctl reads process.env and touches the real process.
runCli(process.argv.slice(2), {
  env: process.env,
  io: { stdout: process.stdout, stderr: process.stderr, isTTY: Boolean(process.stderr.isTTY) },
  now: () => new Date(),
  signals: process,
}).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`ferryctl: ${(err as Error).message}\n`);
    process.exitCode = 1;
  },
);
