import { z } from 'zod';

/** Lower-case type names, as PRODUCT_TYPES has always accepted them. */
export const TYPE_NAME = /^[a-z0-9_-]{1,64}$/;
const typeName = z.string().regex(TYPE_NAME, 'types are lower-case [a-z0-9_-], at most 64 characters');

/** FITS structure checks; checksums are verified while the bytes are copied, when the file carries them. */
const fitsValidator = z.strictObject({
  /** Verify DATASUM and CHECKSUM of every HDU that carries them (default true). */
  verify_checksums: z.boolean().default(true),
  /** Refuse a file whose primary HDU has no CHECKSUM/DATASUM (default false). */
  require_checksums: z.boolean().default(false),
});

/** CASA table directory checks (Measurement Sets, calibration tables). */
const casaTableValidator = z.strictObject({
  /** The `Type = …` line of the main table's table.info, when it must be a given one. */
  table_type: z.string().min(1).optional(),
  /** Subtables (directories, each a CASA table) that must be present and readable. */
  required_subtables: z.array(z.string().regex(/^[A-Za-z0-9_]{1,64}$/, 'subtable names are letters, digits and _')).default([]),
});

/** What a type asks of the products it is derived from. */
const lineageRules = z.strictObject({
  /** Types the inputs may have; empty or absent = any type. */
  input_types: z.array(typeName).optional(),
  /** How far an input must have come: merely registered, or published. */
  require: z.enum(['registered', 'published']).default('registered'),
  min_inputs: z.number().int().min(0).max(100_000).default(0),
  max_inputs: z.number().int().min(1).max(100_000).default(100_000),
  /** Longest span from the earliest input observation start to the latest input observation end. */
  max_span_seconds: z.number().positive().optional(),
});

/** How a type's published products appear in ivoa.obscore. */
const obscore = z.strictObject({
  dataproduct_type: z.string().regex(/^[a-z-]{1,32}$/).optional(),
  calib_level: z.number().int().min(0).max(4).optional(),
  access_format: z.string().min(1).max(100).optional(),
});

/** One product type. */
export const productTypeSchema = z.strictObject({
  description: z.string().optional(),
  kind: z.enum(['file', 'directory']).optional(),
  /** A regular expression the product's base name must match (JavaScript syntax, anchored by you). */
  name_pattern: z.string().min(1).optional(),
  min_bytes: z.number().int().min(0).optional(),
  max_bytes: z.number().int().min(0).optional(),
  /** A JSON Schema (draft 2020-12 subset that ajv supports) for the producer's metadata. */
  metadata_schema: z.record(z.string(), z.unknown()).optional(),
  validators: z
    .strictObject({ fits: fitsValidator.optional(), casa_table: casaTableValidator.optional() })
    .default({}),
  lineage: lineageRules.optional(),
  obscore: obscore.optional(),
});

/** The whole product types file. */
export const productTypesFileSchema = z.strictObject({
  version: z.literal(1),
  types: z.record(typeName, productTypeSchema).refine((t) => Object.keys(t).length > 0, 'define at least one type'),
});

export type ProductTypeDefinition = z.infer<typeof productTypeSchema>;
export type ProductTypesFile = z.infer<typeof productTypesFileSchema>;
export type LineageRules = z.infer<typeof lineageRules>;

/** A type with no file: what PRODUCT_TYPES alone has always meant (any kind, any bytes, no checks). */
export const OPAQUE_TYPE: ProductTypeDefinition = { validators: {} };
