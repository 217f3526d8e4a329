/** Exit codes ferryctl documents in --help and docs/ferryctl.md; cron and monitoring tools read them. */
export const EXIT_OK = 0;
/** A threshold was crossed, an audit found a mismatch, or the operation failed. */
export const EXIT_FAILURE = 1;
/** The API could not be reached, the token was refused, or the command line was wrong. */
export const EXIT_UNAVAILABLE = 2;

/** One of the three documented exit codes. */
export type ExitCode = typeof EXIT_OK | typeof EXIT_FAILURE | typeof EXIT_UNAVAILABLE;

/** An error ferryctl reports as one line on stderr, then exits with exitCode. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCode = EXIT_FAILURE,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** A wrong command line (missing token, bad number): exit 2 like commander's own usage errors. */
export class UsageError extends CliError {
  constructor(message: string) {
    super(message, EXIT_UNAVAILABLE);
  }
}

/** The text of the exit-code section every --help shows. */
export const EXIT_CODES_HELP = `Exit codes:
  0  ok / healthy
  1  threshold crossed, mismatch found, or the operation failed
  2  API unreachable (or 502/503/504), token refused (401/403), or usage error`;
