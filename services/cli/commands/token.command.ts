import { InvalidArgumentError, type Command } from 'commander';
import { clientFor } from '../context';
import { tokenArray } from '../http/api-client';
import type { TokenInfo } from '../http/api-types';
import { formatTable } from '../output/table';
import { examples, optionsOf, printJson, type CommandDeps } from './command-kit';

const SCOPES = ['read', 'publish', 'admin'];

/** Parses "read,publish" into known scopes. */
export function parseScopes(raw: string): string[] {
  const scopes = [...new Set(raw.split(',').map((s) => s.trim()).filter(Boolean))];
  const bad = scopes.filter((s) => !SCOPES.includes(s));
  if (!scopes.length || bad.length) throw new InvalidArgumentError(`scopes are a comma-separated list of ${SCOPES.join(', ')}.`);
  return scopes;
}

/** Tokens as a table (never their secrets: the API does not return them). */
export function formatTokens(tokens: TokenInfo[]): string {
  if (!tokens.length) return 'no tokens\n';
  return formatTable(
    ['NAME', 'SCOPES', 'CREATED_AT', 'LAST_USED_AT', 'REVOKED_AT'],
    tokens.map((t) => [t.name, t.scopes.join(','), t.created_at, t.last_used_at, t.revoked_at]),
  );
}

/** `ferryctl token create|list|revoke` (admin). */
export function registerTokenCommand(program: Command, { ctx, finish }: CommandDeps): void {
  const token = program
    .command('token')
    .description('create, list and revoke API tokens (needs an admin token)')
    .addHelpText('after', examples('ferryctl token create pipeline-a --scopes publish', 'ferryctl token list', 'ferryctl token revoke pipeline-a'));

  token
    .command('create')
    .description('create a token; its secret is printed once and never again')
    .argument('<name>', 'a unique name: letters, digits, _ . - (at most 64)')
    .option('--scopes <list>', 'comma-separated: read, publish, admin (publish implies read; admin implies all)', parseScopes, ['read'])
    .option('--json', 'print the API response (with the token) as JSON')
    .addHelpText('after', examples('ferryctl token create grafana --scopes read', 'ferryctl token create pipeline-a --scopes publish --json | jq -r .token > pipeline-a.token'))
    .action(async (name: string, _o, cmd: Command) => {
      const opts = optionsOf<{ scopes: string[]; json?: boolean }>(cmd);
      const created = await clientFor(opts, ctx).createToken(name, opts.scopes);
      if (opts.json) printJson(ctx, created);
      else {
        ctx.io.stdout.write(`${created.token}\n`);
        ctx.io.stderr.write(`token "${name}" created with scopes ${opts.scopes.join(',')}: store it now, it is not shown again\n`);
      }
      finish(0);
    });

  token
    .command('list')
    .description('list tokens, revoked ones included')
    .option('--json', 'print the API response as JSON')
    .addHelpText('after', examples('ferryctl token list', 'ferryctl token list --json'))
    .action(async (_o, cmd: Command) => {
      const opts = optionsOf<{ json?: boolean }>(cmd);
      const body = await clientFor(opts, ctx).listTokens();
      if (opts.json) printJson(ctx, body);
      else ctx.io.stdout.write(formatTokens(tokenArray(body)));
      finish(0);
    });

  token
    .command('revoke')
    .description('revoke a token by name; it stops working at once (idempotent)')
    .argument('<name>', 'the token name')
    .option('--json', 'print the API response as JSON')
    .addHelpText('after', examples('ferryctl token revoke pipeline-a'))
    .action(async (name: string, _o, cmd: Command) => {
      const opts = optionsOf<{ json?: boolean }>(cmd);
      const body = await clientFor(opts, ctx).revokeToken(name);
      if (opts.json) printJson(ctx, body ?? { name, revoked: true });
      else ctx.io.stdout.write(`token "${name}" revoked\n`);
      finish(0);
    });
}
