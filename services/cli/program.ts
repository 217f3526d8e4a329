import { Command, CommanderError } from 'commander';
import { version } from '../core/version';
import { CliError, EXIT_CODES_HELP, EXIT_FAILURE, EXIT_UNAVAILABLE } from './cli-error';
import { registerAuditCommand } from './commands/audit.command';
import { registerCheckCommand } from './commands/check.command';
import { intArg, type CommandDeps } from './commands/command-kit';
import { registerFailedCommand } from './commands/failed.command';
import { registerControlCommands, registerLifecycleCommands } from './commands/lifecycle.command';
import { registerProductsCommand } from './commands/products.command';
import { registerReconcileCommand } from './commands/reconcile.command';
import { registerRetryAllCommand } from './commands/retry-all.command';
import { registerRetryCommand } from './commands/retry.command';
import { registerStatusCommand } from './commands/status.command';
import { registerTestCommand } from './commands/test.command';
import { registerTokenCommand } from './commands/token.command';
import { registerWatchCommand } from './commands/watch.command';
import { DEFAULT_URL, type CliContext } from './context';

const ENV_HELP = `
Environment:
  FERRY_URL          API base URL (default ${DEFAULT_URL})
  FERRY_TOKEN        API token; or FERRY_TOKEN_FILE, a file holding it
  FERRY_CA           PEM file of the CA that signed the API's certificate (like --ca)
  PRODUCTS_ROOT      the archive, for audit
  FERRY_CHECK_MIN_SUCCESS_RATE, FERRY_CHECK_MAX_FAILURES_LAST_HOUR,
  FERRY_CHECK_MAX_STAGING_HOURS, FERRY_CHECK_MAX_ATTEMPTS_EXCEEDED   thresholds of check and watch
  FERRY_AUDIT_RATE_MB_S, FERRY_AUDIT_TEXTFILE_DIR                    defaults of audit
Flags win over the environment.

Examples:
  $ export FERRY_URL=https://ferry.example FERRY_TOKEN_FILE=/etc/ferry/token
  $ ferryctl test
  $ ferryctl status
  $ ferryctl check || echo "ferry unhealthy"
`;

/** Builds the ferryctl program; commands report their exit code through finish(). */
export function buildProgram(ctx: CliContext, finish: (code: number) => void): Command {
  const program = new Command('ferryctl');
  // Set before any subcommand is created: .command() copies these settings into each child.
  program
    .exitOverride()
    .configureOutput({ writeOut: (s) => ctx.io.stdout.write(s), writeErr: (s) => ctx.io.stderr.write(s) })
    .showHelpAfterError('(add --help for usage)');
  program
    .description("Ferry's operator command line: status, failures, retries, health checks for cron, tokens, audit.")
    .version(version, '-V, --version')
    .option('--url <url>', `API base URL (env FERRY_URL; default ${DEFAULT_URL})`)
    .option('--token <token>', 'API token (env FERRY_TOKEN); prefer --token-file or the env so it stays out of ps')
    .option('--token-file <file>', 'file holding the API token (env FERRY_TOKEN_FILE)')
    .option('--ca <file>', 'PEM CA certificate to trust for https (env FERRY_CA)')
    .option('--timeout <seconds>', 'per-request timeout in seconds', intArg(1, 3600), 30)
    .option('--retry-for <seconds>', 'keep retrying 429 and unavailable (502/503/504) answers, with backoff and Retry-After, this long (env FERRY_RETRY_SECONDS; default 120)', intArg(0, 86_400))
    .addHelpText('after', `\n${EXIT_CODES_HELP}\n${ENV_HELP}`);

  const deps: CommandDeps = { ctx, finish };
  registerStatusCommand(program, deps);
  registerFailedCommand(program, deps);
  registerRetryCommand(program, deps);
  registerRetryAllCommand(program, deps);
  registerLifecycleCommands(program, deps);
  registerControlCommands(program, deps);
  registerProductsCommand(program, deps);
  registerWatchCommand(program, deps);
  registerCheckCommand(program, deps);
  registerTestCommand(program, deps);
  registerTokenCommand(program, deps);
  registerReconcileCommand(program, deps);
  registerAuditCommand(program, deps);
  addExitCodes(program.commands);
  return program;
}

function addExitCodes(commands: readonly Command[]): void {
  for (const cmd of commands) {
    cmd.addHelpText('after', `\n${EXIT_CODES_HELP}\n`);
    addExitCodes(cmd.commands);
  }
}

/**
 * Runs ferryctl with argv (without node and script) and returns its exit code. Every failure
 * becomes one line on stderr: no stack traces.
 */
export async function runCli(argv: string[], ctx: CliContext): Promise<number> {
  let code = 0;
  const program = buildProgram(ctx, (c) => (code = c));
  try {
    await program.parseAsync(argv, { from: 'user' });
    return code;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and version exit 0; commander already printed any usage error.
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.exitCode === 0) return 0;
      return EXIT_UNAVAILABLE;
    }
    if (err instanceof CliError) {
      ctx.io.stderr.write(`ferryctl: ${err.message}\n`);
      return err.exitCode;
    }
    const e = err as NodeJS.ErrnoException;
    ctx.io.stderr.write(`ferryctl: ${e.code ? `${e.code}: ` : ''}${e.message ?? String(err)}\n`);
    return EXIT_FAILURE;
  }
}
