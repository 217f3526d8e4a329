import type { Command } from 'commander';
import { CliError, EXIT_FAILURE } from '../cli-error';
import { clientFor } from '../context';
import type { RetryResult } from '../http/api-types';
import { examples, intArg, optionsOf, printJson, type CommandDeps } from './command-kit';

/** One line describing a retry's outcome. */
export function formatRetry(dataId: string, r: RetryResult): string {
  if (!r.retried) return `${dataId}: not retried (status ${r.status})`;
  if (r.published) return `${dataId}: published at ${r.published_path ?? '?'}`;
  return `${dataId}: retried, status ${r.status}`;
}

/** Shows elapsed seconds on a terminal while the API waits; returns the stopper. */
function waitingIndicator(ctx: CommandDeps['ctx'], dataId: string, seconds: number): () => void {
  if (!ctx.io.isTTY) return () => undefined;
  const start = Date.now();
  const draw = () => ctx.io.stderr.write(`\r\x1b[2Kwaiting for ${dataId}: ${Math.round((Date.now() - start) / 1000)}/${seconds} s`);
  draw();
  const timer = setInterval(draw, 1000);
  return () => {
    clearInterval(timer);
    ctx.io.stderr.write('\r\x1b[2K');
  };
}

/** `ferryctl retry DATA_ID`: re-queues one failed product, optionally waiting for the outcome. */
export function registerRetryCommand(program: Command, { ctx, finish }: CommandDeps): void {
  program
    .command('retry')
    .description('retry one failed publish; with --wait, wait for its outcome (exit 1 unless it ends published)')
    .argument('<data_id>', 'the product to retry')
    .option('--wait <seconds>', 'wait up to SECONDS for the publish to finish (the API bounds it)', intArg(1, 3600))
    .option('--json', 'print the API response {retried, published, status, published_path}')
    .addHelpText('after', examples('ferryctl retry mosaic_group_abc123', 'ferryctl retry mosaic_group_abc123 --wait 60'))
    .action(async (dataId: string, _o, cmd: Command) => {
      const opts = optionsOf<{ wait?: number; json?: boolean }>(cmd);
      const api = clientFor(opts, ctx);
      const stop = opts.wait ? waitingIndicator(ctx, dataId, opts.wait) : () => undefined;
      let res: RetryResult;
      try {
        res = await api.retry(dataId, opts.wait);
      } finally {
        stop();
      }
      if (opts.json) printJson(ctx, res);
      else ctx.io.stdout.write(`${formatRetry(dataId, res)}\n`);
      if (!res.retried) throw new CliError(`${dataId} was not retried (status ${res.status})`, EXIT_FAILURE);
      if (opts.wait && !res.published) {
        throw new CliError(`${dataId} did not publish within ${opts.wait} s (status ${res.status})`, EXIT_FAILURE);
      }
      finish(0);
    });
}
