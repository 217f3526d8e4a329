/** Scopes form a ladder: admin implies publish, publish implies read. */
export type Scope = 'read' | 'publish' | 'admin';
export const SCOPES: readonly Scope[] = ['read', 'publish', 'admin'];

/** An api_tokens row as the repositories return it; the hash never leaves the api process. */
export interface TokenRow {
  id: number;
  name: string;
  token_sha256: string;
  scopes: Scope[];
  created_at: Date;
  last_used_at: Date | null;
  revoked_at: Date | null;
}
