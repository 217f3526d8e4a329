import { InvalidArgumentError, type Command } from 'commander';
import type { CliContext, GlobalOptions } from '../context';

/** What each command's register function receives. */
export interface CommandDeps {
  ctx: CliContext;
  /** Records the exit code the command ends with. */
  finish(code: number): void;
}

/** The root program's options merged with the command's own. */
export function optionsOf<T>(cmd: Command): T & GlobalOptions {
  return cmd.optsWithGlobals<T & GlobalOptions>();
}

/** A commander parser for an integer in [min, max]. */
export function intArg(min: number, max: number): (raw: string) => number {
  return (raw) => {
    const v = Number(raw);
    if (!/^-?\d+$/.test(raw.trim()) || v < min || v > max) throw new InvalidArgumentError(`must be a whole number from ${min} to ${max}.`);
    return v;
  };
}

/** A commander parser for a number in [min, max]. */
export function numberArg(min: number, max: number): (raw: string) => number {
  return (raw) => {
    const v = Number(raw);
    if (raw.trim() === '' || !Number.isFinite(v) || v < min || v > max) throw new InvalidArgumentError(`must be a number from ${min} to ${max}.`);
    return v;
  };
}

/** A commander parser for an ISO 8601 time, passed on normalised to UTC. */
export function timeArg(raw: string): string {
  const t = Date.parse(raw);
  if (Number.isNaN(t)) throw new InvalidArgumentError('must be an ISO 8601 time, e.g. 2026-01-31T00:00:00Z.');
  return new Date(t).toISOString();
}

/** Writes a value as indented JSON on stdout. */
export function printJson(ctx: CliContext, value: unknown): void {
  ctx.io.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** The "Examples:" block appended to a command's --help. */
export function examples(...lines: string[]): string {
  return `\nExamples:\n${lines.map((l) => `  $ ${l}`).join('\n')}\n`;
}
