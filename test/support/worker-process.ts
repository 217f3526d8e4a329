import { startNodeProcess, type NodeProcess } from './node-process';

/** A worker started from dist/ as its own process, with its JSON log lines collected. */
export type WorkerProcess = NodeProcess;

/** Spawns `node dist/worker/main.js` with exactly this environment (plus PATH). */
export function spawnWorker(env: NodeJS.ProcessEnv): WorkerProcess {
  return startNodeProcess('worker/main.js', env);
}

/** Stops a worker if it still runs (SIGKILL; tests that test SIGTERM send it themselves). */
export async function killWorker(w: WorkerProcess | undefined): Promise<void> {
  if (!w || w.child.exitCode !== null || w.child.signalCode !== null) return;
  w.child.kill('SIGKILL');
  await w.exited;
}
