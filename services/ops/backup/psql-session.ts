import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { BackupError } from './backup-error';
import { pgCommand, type PgTarget } from './pg-target';

/**
 * One interactive psql connection: send SQL, read the lines it prints. The backup keeps a
 * REPEATABLE READ transaction open here while pg_dump imports its snapshot, so the row counts in
 * the metadata describe exactly the rows in the archive.
 */
export class PsqlSession {
  private readonly child: ChildProcessWithoutNullStreams;
  private buffer = '';
  private readonly lines: string[] = [];
  private waiter: (() => void) | undefined;
  private stderr = '';
  private exited: { code: number | null } | undefined;
  private readonly exitPromise: Promise<number | null>;

  constructor(target: PgTarget, database?: string) {
    const line = pgCommand(target, 'psql', ['-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1'], database);
    this.child = spawn(line.cmd, line.args, { env: target.env, stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stdin.on('error', () => undefined);
    this.child.stdout.on('data', (d: Buffer) => {
      this.buffer += d.toString('utf8');
      let i: number;
      while ((i = this.buffer.indexOf('\n')) >= 0) {
        this.lines.push(this.buffer.slice(0, i));
        this.buffer = this.buffer.slice(i + 1);
      }
      this.wake();
    });
    this.child.stderr.on('data', (d: Buffer) => (this.stderr += d.toString('utf8')));
    this.exitPromise = new Promise((resolve) => {
      this.child.on('error', (e) => {
        this.stderr += `cannot run psql: ${e.message}`;
        this.exited = { code: -1 };
        this.wake();
        resolve(-1);
      });
      this.child.on('close', (code) => {
        this.exited = { code };
        this.wake();
        resolve(code);
      });
    });
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = undefined;
    w?.();
  }

  /** Sends SQL (or psql meta-commands) without waiting for output. */
  send(sql: string): void {
    this.child.stdin.write(sql.endsWith('\n') ? sql : `${sql}\n`);
  }

  /** Sends SQL that prints exactly one line and returns that line. */
  async queryLine(sql: string): Promise<string> {
    this.send(sql);
    while (this.lines.length === 0) {
      if (this.exited) throw new BackupError(`psql ended: ${this.stderr.trim() || `exit ${this.exited.code}`}`);
      await new Promise<void>((resolve) => (this.waiter = resolve));
    }
    return this.lines.shift()!;
  }

  /** Commits or ends the session and waits for psql to exit; rejects if psql reported an error. */
  async close(finalSql = ''): Promise<void> {
    if (!this.exited) {
      if (finalSql) this.send(finalSql);
      this.child.stdin.end('\\q\n');
    }
    const code = await this.exitPromise;
    if (code !== 0) throw new BackupError(`psql failed: ${this.stderr.trim() || `exit ${code}`}`);
  }

  /** Ends psql at once (after an error elsewhere). */
  kill(): void {
    if (!this.exited) this.child.kill('SIGTERM');
  }
}
