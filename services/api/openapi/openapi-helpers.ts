import { z } from 'zod';

/** A JSON Schema object as OpenAPI 3.1 embeds it. */
export type JsonSchema = Record<string, unknown>;

/** The JSON Schema (2020-12, as OpenAPI 3.1 uses) of what a zod schema accepts as input. */
export function inputSchema(schema: z.ZodType): JsonSchema {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
  return rest;
}

/** The JSON Schema of what a zod response schema produces: the shape a client receives. */
export function outputSchema(schema: z.ZodType): JsonSchema {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, { io: 'output', unrepresentable: 'any' }) as JsonSchema;
  return rest;
}

/** OpenAPI query parameters generated from a zod object schema, so the document and validation never drift. */
export function queryParameters(schema: z.ZodObject): JsonSchema[] {
  return Object.entries(schema.shape).map(([name, s]) => ({
    name,
    in: 'query',
    required: !(s as z.ZodType).safeParse(undefined).success,
    schema: inputSchema(s as z.ZodType),
  }));
}

/** A `{name}` path parameter. */
export function pathParameter(name: string, schema: JsonSchema, description?: string): JsonSchema {
  return { name, in: 'path', required: true, schema, ...(description ? { description } : {}) };
}

/** A JSON response with a schema. */
export function jsonResponse(description: string, schema: JsonSchema): JsonSchema {
  return { description, content: { 'application/json': { schema } } };
}

/** An error response: `{error: {code, message}}`; codes lists the codes this status answers with. */
export function errorResponse(description: string, codes?: string[]): JsonSchema {
  return jsonResponse(codes ? `${description} (codes: ${codes.join(', ')})` : description, { $ref: '#/components/schemas/Error' });
}

/** The 401/403/429 every guarded route may answer. */
export const GUARDED_ERRORS = {
  '401': errorResponse('No token, or an unknown or revoked one', ['unauthorized']),
  '403': errorResponse('The token lacks the scope this route needs', ['forbidden']),
  '429': errorResponse('Too many requests; see Retry-After', ['rate_limited']),
};

/** Security requirement for a route: a bearer token with at least this scope (admin ⊇ publish ⊇ read). */
export function needs(scope: 'read' | 'publish' | 'admin'): JsonSchema {
  return { security: [{ bearerAuth: [] }], 'x-required-scope': scope };
}
