import {
  detailedHealthResponseSchema, healthSummaryResponseSchema, liveResponseSchema, notReadyResponseSchema, readyResponseSchema, startedResponseSchema,
  startingResponseSchema, systemMetricsResponseSchema,
} from '../schemas/health.responses';
import { createTokenBody, tokenNameSchema } from '../schemas/token.schemas';
import { createdTokenResponseSchema, tokenListResponseSchema, tokenResponseSchema } from '../schemas/token.responses';
import { errorResponse, GUARDED_ERRORS, inputSchema, jsonResponse, needs, outputSchema, pathParameter, type JsonSchema } from './openapi-helpers';

const publicRoute = { security: [] };
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const nameParam = pathParameter('name', inputSchema(tokenNameSchema));
const notFound = errorResponse('Unknown token', ['not_found', 'token_not_found']);

/** Schemas of the platform responses shared by several operations, generated from their zod declarations. */
export const platformSchemas: Record<string, JsonSchema> = {
  Token: outputSchema(tokenResponseSchema),
};

/** OpenAPI paths of the platform routes: health (no token), system metrics, tokens. */
export const platformPaths: Record<string, JsonSchema> = {
  '/health/live': {
    get: { summary: 'The process answers (no dependency checks)', ...publicRoute, responses: { '200': jsonResponse('Alive', outputSchema(liveResponseSchema)) } },
  },
  '/health/ready': {
    get: {
      summary: 'PostgreSQL and Redis reachable, migrations at head',
      ...publicRoute,
      responses: {
        '200': jsonResponse('Ready', outputSchema(readyResponseSchema)),
        '503': jsonResponse('Not ready; names what failed', outputSchema(notReadyResponseSchema)),
      },
    },
  },
  '/health/startup': {
    get: {
      summary: 'Configuration valid and migrations done',
      ...publicRoute,
      responses: {
        '200': jsonResponse('Started', outputSchema(startedResponseSchema)),
        '503': jsonResponse('Still starting', outputSchema(startingResponseSchema)),
      },
    },
  },
  '/health/detailed': {
    get: {
      summary: 'Detailed health report (admin)',
      ...needs('admin'),
      responses: {
        '200': jsonResponse('Healthy or degraded', outputSchema(detailedHealthResponseSchema)),
        '503': jsonResponse('Unhealthy', outputSchema(detailedHealthResponseSchema)),
        ...GUARDED_ERRORS,
      },
    },
  },
  '/health': {
    get: { summary: 'Summary health with system figures', ...publicRoute, responses: { '200': jsonResponse('Summary', outputSchema(healthSummaryResponseSchema)) } },
  },
  '/api/metrics/system': {
    get: {
      summary: 'Host CPU, memory and disk use of both data roots',
      ...needs('read'),
      responses: { '200': jsonResponse('Figures', outputSchema(systemMetricsResponseSchema)), ...GUARDED_ERRORS },
    },
  },
  '/api/tokens': {
    post: {
      summary: 'Create a token; the plaintext is shown once',
      ...needs('admin'),
      requestBody: { required: true, content: { 'application/json': { schema: inputSchema(createTokenBody) } } },
      responses: {
        '201': jsonResponse('Created', outputSchema(createdTokenResponseSchema)),
        '400': errorResponse('Invalid body', ['validation_error', 'reserved_token_name']),
        '409': errorResponse('Name taken', ['token_name_taken']),
        ...GUARDED_ERRORS,
      },
    },
    get: { summary: 'List tokens (never their hashes)', ...needs('admin'), responses: { '200': jsonResponse('Tokens', outputSchema(tokenListResponseSchema)), ...GUARDED_ERRORS } },
  },
  '/api/tokens/{name}': {
    delete: { summary: 'Revoke a token', ...needs('admin'), parameters: [nameParam], responses: { '200': jsonResponse('Revoked', ref('Token')), '404': notFound, ...GUARDED_ERRORS } },
  },
  '/api/tokens/{name}/revoke': {
    post: { summary: 'Revoke a token', ...needs('admin'), parameters: [nameParam], responses: { '200': jsonResponse('Revoked', ref('Token')), '404': notFound, ...GUARDED_ERRORS } },
  },
};
