import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { REPO_ROOT } from './repo-root';

/** Repository root (dist/ lives here). */
export const ROOT = REPO_ROOT;

/** A built Ferry process under test, with its JSON log lines collected. */
export interface NodeProcess {
  child: ChildProcess;
  lines: Record<string, unknown>[];
  stderr: string[];
  /** Resolves with the first log line matching, or rejects after timeoutMs. */
  waitForLog(match: (line: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
  /** Resolves with the exit code (or signal name) once the process ended. */
  exited: Promise<number | string>;
  /** Sends SIGKILL if still running (for afterAll). */
  kill(): void;
}

/**
 * Runs `node dist/<script>` with exactly the given environment (plus PATH). `prefix` runs it
 * through a command that execs it (`ip netns exec NS`), so the pid is still node's.
 */
export function startNodeProcess(script: string, env: NodeJS.ProcessEnv, args: string[] = [], prefix: string[] = []): NodeProcess {
  const argv = [...prefix, process.execPath, path.join(ROOT, 'dist', script), ...args];
  const child = spawn(argv[0]!, argv.slice(1), {
    env: { PATH: process.env.PATH, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: Record<string, unknown>[] = [];
  const stderr: string[] = [];
  const waiters: { match: (l: Record<string, unknown>) => boolean; resolve: (l: Record<string, unknown>) => void }[] = [];
  let buffer = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    buffer += chunk.toString('utf8');
    let i: number;
    while ((i = buffer.indexOf('\n')) >= 0) {
      const text = buffer.slice(0, i);
      buffer = buffer.slice(i + 1);
      let line: Record<string, unknown>;
      try {
        line = JSON.parse(text) as Record<string, unknown>;
      } catch {
        line = { message: text, unparsed: true };
      }
      lines.push(line);
      for (const w of [...waiters]) {
        if (w.match(line)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(line);
        }
      }
    }
  });
  child.stderr!.on('data', (chunk: Buffer) => stderr.push(chunk.toString('utf8')));
  // A process that fails to start says why in its JSON log on stdout, not on stderr.
  const lastLines = () => lines.slice(-5).map((l) => JSON.stringify(l)).join('\n');
  const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)));
  return {
    child,
    lines,
    stderr,
    exited,
    waitForLog(match, timeoutMs = 30000) {
      const found = lines.find(match);
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no matching log line within ${timeoutMs} ms; stderr: ${stderr.join('')}; last log lines: ${lastLines()}`)), timeoutMs);
        waiters.push({ match, resolve: (l) => { clearTimeout(timer); resolve(l); } });
        void exited.then((how) => {
          setTimeout(() => {
            clearTimeout(timer);
            reject(new Error(`process exited (${how}) before a matching log line; stderr: ${stderr.join('')}; last log lines: ${lastLines()}`));
          }, 50);
        });
      });
    },
    kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
}
