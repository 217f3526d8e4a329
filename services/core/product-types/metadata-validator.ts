import Ajv, { type ValidateFunction } from 'ajv';

/** One Ajv instance: strict, so a misspelt schema keyword is a start-up error rather than a silent no-op. */
const ajv = new Ajv({ strict: true, allErrors: true });
const cache = new WeakMap<object, ValidateFunction>();

/** Compiles (once per schema object) a type's metadata JSON Schema; throws when the schema is invalid. */
export function metadataValidator(schema: Record<string, unknown>): ValidateFunction {
  let fn = cache.get(schema);
  if (!fn) {
    fn = ajv.compile(schema);
    cache.set(schema, fn);
  }
  return fn;
}

/** The problems of `metadata` under `schema`, one line each ("/field: must be number"); empty when valid. */
export function metadataProblems(schema: Record<string, unknown>, metadata: unknown): string[] {
  const fn = metadataValidator(schema);
  if (fn(metadata)) return [];
  return (fn.errors ?? []).map((e) => `${e.instancePath || '/'}: ${e.message ?? 'is invalid'}`);
}
