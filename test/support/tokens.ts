/**
 * The bootstrap admin token (FERRY_ADMIN_TOKEN, at least 32 characters) every api a test starts
 * accepts, in process or as its own process, and the header that presents it.
 */
export const TEST_ADMIN_TOKEN = 'ferry-test-admin-token-0123456789abcdef';

/** `Authorization: Bearer <token>`, the admin token by default. */
export function authHeader(token: string = TEST_ADMIN_TOKEN): { Authorization: string } {
  return { Authorization: `Bearer ${token}` };
}
