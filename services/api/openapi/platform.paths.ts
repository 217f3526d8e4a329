import { createTokenBody, tokenNameSchema } from '../schemas/token.schemas';
import { errorResponse, GUARDED_ERRORS, inputSchema, jsonResponse, needs, nullable, pathParameter, type JsonSchema } from './openapi-helpers';

const publicRoute = { security: [] };
const object = { type: 'object' };
const token = {
  type: 'object',
  properties: {
    name: { type: 'string' },
    scopes: { type: 'array', items: { enum: ['read', 'publish', 'admin'] } },
    created_at: { type: 'string', format: 'date-time' },
    last_used_at: nullable('string', { format: 'date-time' }),
    revoked_at: nullable('string', { format: 'date-time' }),
  },
};
const nameParam = pathParameter('name', inputSchema(tokenNameSchema));
const notFound = errorResponse('Unknown token', ['not_found', 'token_not_found']);

/** OpenAPI paths of the platform routes: health (no token), system metrics, tokens. */
export const platformPaths: Record<string, JsonSchema> = {
  '/health/live': { get: { summary: 'The process answers (no dependency checks)', ...publicRoute, responses: { '200': jsonResponse('Alive', object) } } },
  '/health/ready': {
    get: {
      summary: 'PostgreSQL and Redis reachable, migrations at head',
      ...publicRoute,
      responses: { '200': jsonResponse('Ready', object), '503': jsonResponse('Not ready; names what failed', object) },
    },
  },
  '/health/startup': {
    get: {
      summary: 'Configuration valid and migrations done',
      ...publicRoute,
      responses: { '200': jsonResponse('Started', object), '503': jsonResponse('Still starting', object) },
    },
  },
  '/health/detailed': {
    get: {
      summary: 'Detailed health report (admin)',
      ...needs('admin'),
      responses: { '200': jsonResponse('Healthy or degraded', object), '503': jsonResponse('Unhealthy', object), ...GUARDED_ERRORS },
    },
  },
  '/health': { get: { summary: 'Summary health with system figures', ...publicRoute, responses: { '200': jsonResponse('Summary', object) } } },
  '/api/metrics/system': {
    get: { summary: 'Host CPU, memory and disk use of both data roots', ...needs('read'), responses: { '200': jsonResponse('Figures', object), ...GUARDED_ERRORS } },
  },
  '/api/tokens': {
    post: {
      summary: 'Create a token; the plaintext is shown once',
      ...needs('admin'),
      requestBody: { required: true, content: { 'application/json': { schema: inputSchema(createTokenBody) } } },
      responses: {
        '201': jsonResponse('Created', object),
        '400': errorResponse('Invalid body', ['validation_error']),
        '409': errorResponse('Name taken', ['token_name_taken']),
        ...GUARDED_ERRORS,
      },
    },
    get: { summary: 'List tokens (never their hashes)', ...needs('admin'), responses: { '200': jsonResponse('Tokens', { type: 'object', properties: { tokens: { type: 'array', items: token } } }), ...GUARDED_ERRORS } },
  },
  '/api/tokens/{name}': {
    delete: { summary: 'Revoke a token', ...needs('admin'), parameters: [nameParam], responses: { '200': jsonResponse('Revoked', token), '404': notFound, ...GUARDED_ERRORS } },
  },
  '/api/tokens/{name}/revoke': {
    post: { summary: 'Revoke a token', ...needs('admin'), parameters: [nameParam], responses: { '200': jsonResponse('Revoked', token), '404': notFound, ...GUARDED_ERRORS } },
  },
};
