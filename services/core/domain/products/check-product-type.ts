import { ValidationError } from '../../errors';
import { metadataProblems } from '../../product-types/metadata-validator';
import type { ProductTypeDefinition } from '../../product-types/product-type.schema';
import { productName } from '../../product-types/validate-source';
import type { ProductKind } from '../../repositories/product.types';

/**
 * What a registration can check of its type at once, before any row is written: the producer's
 * metadata against the type's JSON Schema (422 metadata_invalid listing every problem), and the
 * source's kind, name and size (422 type_mismatch). The content validators run in the worker,
 * before the copy (docs/product-types.md).
 */
export function checkProductType(
  def: ProductTypeDefinition,
  dataType: string,
  metadata: Record<string, unknown>,
  source: { relativePath: string; kind: ProductKind; sizeBytes: number },
): void {
  if (def.metadata_schema) {
    const problems = metadataProblems(def.metadata_schema, metadata);
    if (problems.length > 0) {
      throw new ValidationError('metadata_invalid', `metadata does not match the ${dataType} schema: ${problems.join('; ')}`, 422, { problems });
    }
  }
  const name = productName(source.relativePath);
  const wrong = (why: string) => new ValidationError('type_mismatch', `the source is not a valid ${dataType}: ${why}`, 422);
  if (def.kind && def.kind !== source.kind) throw wrong(`a ${def.kind} is expected, ${name} is a ${source.kind}`);
  if (def.name_pattern && !new RegExp(def.name_pattern, 'u').test(name)) throw wrong(`the name ${name} does not match ${def.name_pattern}`);
  if (def.min_bytes !== undefined && source.sizeBytes < def.min_bytes) throw wrong(`${source.sizeBytes} bytes, the minimum is ${def.min_bytes}`);
  if (def.max_bytes !== undefined && source.sizeBytes > def.max_bytes) throw wrong(`${source.sizeBytes} bytes, the maximum is ${def.max_bytes}`);
}
