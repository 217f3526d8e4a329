import { z } from 'zod';
import { SCOPES } from '../../core/repositories/token.types';

/** A token name: what appears in logs as token_name. */
export const tokenNameSchema = z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'token names are 1-64 characters of letters, digits, _ . -');

/** POST /api/tokens */
export const createTokenBody = z.object({
  name: tokenNameSchema,
  scopes: z.array(z.enum(SCOPES as [string, ...string[]])).min(1, 'give at least one scope: read, publish or admin'),
}).strict();
export type CreateTokenBody = z.infer<typeof createTokenBody>;

/** :name in /api/tokens/:name */
export const tokenNameParams = z.object({ name: tokenNameSchema });
