/**
 * The publishing repository: the product state machine's only writer. Every change of
 * `products.status` and every `product_events` row goes through one function here; see
 * product-event.ts for the table of transitions and how to add one.
 */
import type { ProductEvent } from './product-event';
import {
  recordClaimed, recordFailed, recordLeaseReclaimed, recordLeaseReleased, recordPublished, recordRetryScheduled, recordSourceRemoved,
} from './publishing.transitions';
import { recordPublishRequested, recordRegistered, recordRetryRequested } from './registry.transitions';
import {
  recordAmended, recordDiscarded, recordDiscardedSourceRemoved, recordFailedAmended, recordHeld, recordHeldDiscarded, recordReleased,
  recordRetracted, recordRetractionMoved,
} from './lifecycle.transitions';

export * from './product-event';
export * from './publishing.transitions';
export * from './registry.transitions';
export * from './lifecycle.transitions';

/** The function that makes each transition (one per event), for the diagram test and for readers. */
export const TRANSITION_FUNCTIONS: Readonly<Record<ProductEvent, (...args: never[]) => Promise<unknown>>> = {
  registered: recordRegistered,
  publish_requested: recordPublishRequested,
  claimed: recordClaimed,
  lease_reclaimed: recordLeaseReclaimed,
  lease_released: recordLeaseReleased,
  retry_scheduled: recordRetryScheduled,
  failed: recordFailed,
  published: recordPublished,
  source_removed: recordSourceRemoved,
  retry_requested: recordRetryRequested,
  discarded: recordDiscarded,
  held_discarded: recordHeldDiscarded,
  amended: recordAmended,
  failed_amended: recordFailedAmended,
  held: recordHeld,
  released: recordReleased,
  retracted: recordRetracted,
  retraction_moved: recordRetractionMoved,
  discarded_source_removed: recordDiscardedSourceRemoved,
};
