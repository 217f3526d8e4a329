import { version } from '../../core/version';
import { lineagePaths, lineageSchemas } from './lineage.paths';
import { platformPaths, platformSchemas } from './platform.paths';
import { lifecyclePaths } from './lifecycle.paths';
import { registryPaths, registrySchemas } from './registry.paths';

/** The OpenAPI 3.1 document of every route createApp() serves; openapi.test.ts proves the two agree. */
export function buildOpenApiDocument() {
  return {
    openapi: '3.1.0',
    info: {
      title: 'Ferry API',
      version,
      description:
        'Registry of data products published from STAGE_ROOT to PRODUCTS_ROOT. JSON only, snake_case, times ISO 8601 UTC. ' +
        'Errors: {"error": {"code", "message"}}. Tokens: Authorization: Bearer <token>; scopes read < publish < admin.',
    },
    servers: [{ url: '/' }],
    security: [{ bearerAuth: [] }],
    paths: {
      '/api/openapi.json': {
        get: { summary: 'This document', security: [], responses: { '200': { description: 'OpenAPI 3.1 document', content: { 'application/json': { schema: { type: 'object' } } } } } },
      },
      ...registryPaths,
      ...lifecyclePaths,
      ...lineagePaths,
      ...platformPaths,
    },
    components: {
      securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer' } },
      schemas: {
        Error: {
          type: 'object',
          required: ['error'],
          properties: {
            error: {
              type: 'object',
              required: ['code', 'message'],
              properties: { code: { type: 'string' }, message: { type: 'string' }, details: { type: 'object' } },
            },
          },
        },
        ...registrySchemas,
        ...lineageSchemas,
        ...platformSchemas,
      },
    },
  };
}
