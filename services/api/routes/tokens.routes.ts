import { Router, type RequestHandler } from 'express';
import type { Queryable } from '../../core/db/pool';
import { createToken } from '../../core/domain/tokens/create-token';
import { listTokens } from '../../core/domain/tokens/list-tokens';
import { revokeToken } from '../../core/domain/tokens/revoke-token';
import type { Scope } from '../../core/repositories/token.types';
import { createTokenBody, tokenNameParams } from '../schemas/token.schemas';
import type { CreatedTokenResponse, TokenListResponse, TokenResponse } from '../schemas/token.responses';

/** /api/tokens (admin, guarded where mounted): create (plaintext shown once), list, revoke. */
export function tokensRouter(deps: { db: Queryable }): Router {
  const router = Router();

  router.post('/', async (req, res) => {
    const body = createTokenBody.parse(req.body);
    const created = await createToken(deps, { name: body.name, scopes: body.scopes as Scope[] });
    // Keys containing "token" are redacted from logs, so the subject is logged as `name`.
    req.log?.info('token created', { name: created.name, scopes: created.scopes });
    res.status(201).json(created satisfies CreatedTokenResponse);
  });

  router.get('/', async (_req, res) => {
    res.json({ tokens: await listTokens(deps) } satisfies TokenListResponse);
  });

  const revoke: RequestHandler = async (req, res) => {
    const { name } = tokenNameParams.parse(req.params);
    const revoked = await revokeToken(deps, name);
    req.log?.info('token revoked', { name: revoked.name });
    res.json(revoked satisfies TokenResponse);
  };
  router.delete('/:name', revoke);
  router.post('/:name/revoke', revoke);

  return router;
}
