import { EventEmitter } from 'node:events';
import type { CliContext } from './context';
import { runCli } from './program';

/** Runs ferryctl in-process with captured output, for unit tests of parsing and formatting. */
export async function runCaptured(argv: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const ctx: CliContext = {
    env,
    io: {
      stdout: { write: (s: string) => (stdout += s) },
      stderr: { write: (s: string) => (stderr += s) },
      isTTY: false,
    },
    now: () => new Date(),
    signals: new EventEmitter(),
  };
  const code = await runCli(argv, ctx);
  return { code, stdout, stderr };
}
