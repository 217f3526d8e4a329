import type { CliIo } from '../context';

/** Reports progress over a known number of steps. */
export interface Progress {
  /** One step done; line (if any) is what a non-terminal prints for it. */
  step(line?: string): void;
  /** Prints a line that must stay visible (a mismatch), above the bar on a terminal. */
  print(line: string): void;
  /** Changes the label shown on the bar without counting a step. */
  note(label: string): void;
  /** Clears the bar (on a terminal) so later output starts on a clean line. */
  done(): void;
}

/** The bar text for done of total, e.g. "[#####-----] 5/10 label"; without a total just "5 label". */
export function renderBar(done: number, total: number | undefined, label: string, width = 30): string {
  if (total === undefined) return `${done} ${label}`.trimEnd();
  const ratio = total > 0 ? Math.min(1, done / total) : 1;
  const filled = Math.round(ratio * width);
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${done}/${total} ${label}`.trimEnd();
}

/** A bar redrawn in place on stderr when it is a terminal; plain lines on stdout otherwise. */
export function createProgress(io: CliIo, total: number | undefined, label = ''): Progress {
  let count = 0;
  let current = label;
  const draw = () => io.stderr.write(`\r\x1b[2K${renderBar(count, total, current)}`);
  if (io.isTTY) draw();
  return {
    step(line) {
      count++;
      if (io.isTTY) draw();
      else if (line !== undefined) io.stdout.write(`${line}\n`);
    },
    print(line) {
      if (io.isTTY) io.stderr.write('\r\x1b[2K');
      io.stdout.write(`${line}\n`);
      if (io.isTTY) draw();
    },
    note(l) {
      current = l;
      if (io.isTTY) draw();
    },
    done() {
      if (io.isTTY) io.stderr.write('\r\x1b[2K');
    },
  };
}
