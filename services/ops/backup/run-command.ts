import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { BackupError } from './backup-error';

/** A command line: the program and its arguments, never a shell string. */
export interface CommandLine {
  cmd: string;
  args: string[];
}

export interface RunOptions {
  /** The whole environment of the command (the entry point decides it; nothing here reads process.env). */
  env: NodeJS.ProcessEnv;
  /** A file streamed to the command's stdin. */
  stdinFile?: string;
  /** A file the command's stdout is written to (created or truncated). */
  stdoutFile?: string;
}

/** Runs a command to completion; resolves with its stdout, rejects with its stderr on a non-zero exit. */
export function runCommand(line: CommandLine, opts: RunOptions): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(line.cmd, line.args, {
      env: opts.env,
      stdio: [opts.stdinFile ? 'pipe' : 'ignore', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let sink: fs.WriteStream | undefined;
    let sinkDone: Promise<void> = Promise.resolve();
    if (opts.stdoutFile) {
      sink = fs.createWriteStream(opts.stdoutFile);
      const s = sink;
      sinkDone = new Promise((res, rej) => {
        s.on('close', () => res());
        s.on('error', rej);
      });
      child.stdout!.pipe(sink);
    } else {
      child.stdout!.on('data', (d: Buffer) => out.push(d));
    }
    child.stderr!.on('data', (d: Buffer) => err.push(d));
    if (opts.stdinFile && child.stdin) {
      const src = fs.createReadStream(opts.stdinFile);
      src.on('error', (e) => child.kill() && reject(e));
      // The command may exit before reading everything (a refused archive): that is not our error.
      child.stdin.on('error', () => undefined);
      src.pipe(child.stdin);
    }
    child.on('error', (e) => reject(new BackupError(`cannot run ${line.cmd}: ${e.message}`)));
    child.on('close', (code, signal) => {
      sinkDone.then(
        () => {
          const stderr = Buffer.concat(err).toString('utf8').trim();
          if (code === 0) resolve(Buffer.concat(out).toString('utf8'));
          else reject(new BackupError(`${describe(line)} failed (${signal ?? `exit ${code}`})${stderr ? `: ${stderr}` : ''}`));
        },
        (e: Error) => reject(new BackupError(`cannot write ${opts.stdoutFile}: ${e.message}`)),
      );
    });
  });
}

/** The program and the first few arguments that say what it was doing (never a whole URL with a password). */
export function describe(line: CommandLine): string {
  const shown = line.args.filter((a) => !/^postgres(ql)?:\/\//.test(a)).slice(0, 8);
  return [line.cmd, ...shown].join(' ');
}
