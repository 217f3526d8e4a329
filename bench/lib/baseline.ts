import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';

/** A baseline server (bench/lib/<script>) in its own process, and the port it printed. */
export interface Baseline {
  child: ChildProcess;
  port: number;
}

/** Starts bench/lib/<script> with `env` added to the bench's own; resolves once it printed its port. */
export async function startBaseline(script: string, env: NodeJS.ProcessEnv = {}): Promise<Baseline> {
  const child = spawn(process.execPath, [path.join(__dirname, script)], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, ...env } });
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout!.once('data', (d: Buffer) => resolve(Number(d.toString().trim())));
    child.once('exit', (code) => reject(new Error(`${script} exited with ${code}`)));
  });
  return { child, port };
}

/** Stops a baseline with SIGTERM and waits until it has exited. */
export async function stopBaseline(b: Baseline): Promise<void> {
  if (b.child.exitCode !== null || b.child.signalCode !== null) return;
  const exited = new Promise((resolve) => b.child.once('exit', resolve));
  b.child.kill('SIGTERM');
  await exited;
}
