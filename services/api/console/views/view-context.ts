import type { Request } from 'express';
import { hasScope } from '../../../core/domain/tokens/token-secret';
import type { Scope } from '../../../core/repositories/token.types';
import '../console-types';

/** What every page needs to know about the operator: who it is, what it may do, its CSRF token. */
export interface ViewContext {
  user: { name: string; scopes: Scope[] } | undefined;
  csrf: string;
  can(scope: Scope): boolean;
  grafanaUrl: string | undefined;
  /** The current path, to mark the navigation link. */
  path: string;
}

/** The view context of a request. */
export function viewContext(req: Request, grafanaUrl: string | undefined): ViewContext {
  const user = req.consoleUser;
  return {
    user: user ? { name: user.name, scopes: user.scopes } : undefined,
    csrf: user?.csrfToken ?? '',
    can: (scope) => !!user && hasScope(user.scopes, scope),
    grafanaUrl,
    path: req.baseUrl + req.path,
  };
}
