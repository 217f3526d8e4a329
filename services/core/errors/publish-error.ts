/** How a failed publish attempt is treated: retried (transient, resource) or failed at once (permanent). */
export type FailureKind = 'transient' | 'resource' | 'permanent';

/** The bounded set of error classes a publish failure carries (metric label, event column, API field). */
export const PUBLISH_ERROR_CLASSES = {
  io_error: 'transient',
  busy: 'transient',
  lease_lost: 'transient',
  lease_expired: 'transient',
  source_changed: 'transient',
  fsync_failed: 'transient',
  database_unavailable: 'transient',
  internal: 'transient',
  no_space: 'resource',
  quota_exceeded: 'resource',
  path_invalid: 'permanent',
  source_missing: 'permanent',
  conflict: 'permanent',
  checksum_mismatch: 'permanent',
  unsupported_file_type: 'permanent',
  permission_denied: 'permanent',
} as const satisfies Record<string, FailureKind>;

export type PublishErrorClass = keyof typeof PUBLISH_ERROR_CLASSES;

/**
 * A classified publish failure; the kind follows from the class, so a class is never retried one
 * time and not the next. It says nothing about HTTP: the api's error handler maps it.
 */
export class PublishError extends Error {
  readonly kind: FailureKind;

  constructor(
    readonly errorClass: PublishErrorClass,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message);
    this.name = new.target.name;
    this.kind = PUBLISH_ERROR_CLASSES[errorClass];
    if (options?.cause !== undefined) (this as { cause?: unknown }).cause = options.cause;
  }

  /** True when another attempt may succeed (transient and resource failures). */
  get retryable(): boolean {
    return this.kind !== 'permanent';
  }
}

/** The row no longer holds this worker's lease: another worker owns the product now. */
export class LeaseLostError extends PublishError {
  constructor(message = 'the lease on this product was lost to another worker') {
    super('lease_lost', message);
  }
}
