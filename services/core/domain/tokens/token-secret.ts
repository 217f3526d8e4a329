import crypto from 'node:crypto';
import type { Scope } from '../../repositories/token.types';

/** Prefix that makes a Ferry token recognisable in a secret scanner. */
export const TOKEN_PREFIX = 'fry_';

/** A new random token: 32 bytes of entropy, base64url. */
export function generateToken(): string {
  return TOKEN_PREFIX + crypto.randomBytes(32).toString('base64url');
}

/** SHA-256 of a token as lowercase hex: the only form a token is stored in. */
export function hashToken(token: string): string {
  return crypto.createHash('sha256').update(token, 'utf8').digest('hex');
}

/** Compares two hex digests in constant time (equal-length by construction). */
export function sameHash(a: string, b: string): boolean {
  const ba = Buffer.from(a, 'hex');
  const bb = Buffer.from(b, 'hex');
  return ba.length === bb.length && crypto.timingSafeEqual(ba, bb);
}

const RANK: Record<Scope, number> = { read: 0, publish: 1, admin: 2 };

/** True when the granted scopes include `needed` or a scope above it (admin ⊇ publish ⊇ read). */
export function hasScope(granted: readonly Scope[], needed: Scope): boolean {
  return granted.some((s) => RANK[s] >= RANK[needed]);
}
