import { z } from 'zod';

/**
 * data_id becomes part of the BullMQ job id (`publish-<data_id>`) and of log lines, so it keeps to
 * a safe charset: no ':' or '/', no spaces, starting with a letter or digit, at most 200 characters.
 */
export const DATA_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._+=@-]{0,199}$/;

export const dataIdSchema = z
  .string()
  .regex(DATA_ID_PATTERN, 'must be 1-200 characters of A-Z a-z 0-9 . _ + = @ -, starting with a letter or digit (no ":" or "/")');

/** The `{data_id}` path parameter. */
export const dataIdParamsSchema = z.object({ data_id: dataIdSchema });

/** A positive integer from the query string, with bounds; a repeated parameter is refused. */
export const queryInt = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
