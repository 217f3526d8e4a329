import type { RequestHandler } from 'express';
import { buildOpenApiDocument } from '../openapi/openapi-document';

/** GET /api/openapi.json: public; built once. Mounted with app.get, so no other method is answered here. */
export function openApiHandler(): RequestHandler {
  const document = buildOpenApiDocument();
  return (_req, res) => {
    res.json(document);
  };
}
