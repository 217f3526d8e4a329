import { z } from 'zod';
import { SCOPES, type Scope } from '../../core/repositories/token.types';

// The JSON the token routes answer with, declared once (see products.responses.ts).

const dateTime = z.iso.datetime();

/** A token as the API shows it: never its hash. */
export const tokenResponseSchema = z.strictObject({
  name: z.string(),
  scopes: z.array(z.enum(SCOPES as [Scope, ...Scope[]])),
  created_at: dateTime,
  last_used_at: dateTime.nullable(),
  revoked_at: dateTime.nullable(),
});
export type TokenResponse = z.infer<typeof tokenResponseSchema>;

/** POST /api/tokens: the only answer that carries the plaintext token. */
export const createdTokenResponseSchema = tokenResponseSchema.extend({ token: z.string().describe('Shown once; only its hash is stored') });
export type CreatedTokenResponse = z.infer<typeof createdTokenResponseSchema>;

/** GET /api/tokens, revoked ones included. */
export const tokenListResponseSchema = z.strictObject({ tokens: z.array(tokenResponseSchema) });
export type TokenListResponse = z.infer<typeof tokenListResponseSchema>;
