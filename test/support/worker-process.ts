import { startNodeProcess, type NodeProcess } from './node-process';

/** A worker started from dist/ as its own process, with its JSON log lines collected. */
export type WorkerProcess = NodeProcess;

/** Spawns `node dist/worker/main.js` with exactly this environment (plus PATH), through `prefix` if given (`ip netns exec NS`). */
export function spawnWorker(env: NodeJS.ProcessEnv, prefix: string[] = []): WorkerProcess {
  return startNodeProcess('worker/main.js', env, [], prefix);
}

/** Stops a worker if it still runs (SIGKILL; tests that test SIGTERM send it themselves). */
export async function killWorker(w: WorkerProcess | undefined): Promise<void> {
  if (!w || w.child.exitCode !== null || w.child.signalCode !== null) return;
  w.child.kill('SIGKILL');
  await w.exited;
}
