import { Router } from 'express';
import { buildOpenApiDocument } from '../openapi/openapi-document';

/** GET /api/openapi.json: public; built once. */
export function openApiRoutes(): Router {
  const router = Router();
  const document = buildOpenApiDocument();
  router.get('/', (_req, res) => {
    res.json(document);
  });
  return router;
}
