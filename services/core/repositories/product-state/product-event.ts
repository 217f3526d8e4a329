/**
 * The product state machine as data: every event the registry writes, the one state change it
 * records, who makes it, and whether it ends a publish attempt. The transition functions beside
 * this file are the only code that writes `products.status` or inserts into `product_events`, and
 * each writes exactly the event declared here (a test walks docs/architecture.md's diagram against
 * this table and the functions, both ways).
 *
 * Adding a transition:
 *   1. add its event name to `ProductEvent` and its row to `TRANSITIONS` (from, to, by, endsAttempt);
 *   2. write one function in one of the `*.transitions.ts` files that updates the row and inserts its
 *      event in one statement (use `eventInsert`), guarded on the `from` status;
 *   3. list it in `TRANSITION_FUNCTIONS` (index.ts) and add the edge to the diagram in
 *      docs/architecture.md; a new status also needs a migration for the `product_status` enum.
 */
import type { ProductStatus } from '../product.types';

/** Every event name in the product event log, once. */
export type ProductEvent =
  | 'registered'
  | 'publish_requested'
  | 'claimed'
  | 'validated'
  | 'lease_reclaimed'
  | 'lease_released'
  | 'retry_scheduled'
  | 'failed'
  | 'published'
  | 'source_removed'
  | 'retry_requested'
  | 'discarded'
  | 'held_discarded'
  | 'amended'
  | 'failed_amended'
  | 'held'
  | 'released'
  | 'retracted'
  | 'retraction_moved'
  | 'discarded_source_removed';

/** Who makes a transition: a client of the api (producer or operator), or a worker process. */
export type TransitionActor = 'api' | 'worker' | 'reconciler';

/** One edge of the state machine. `from` null is the initial state (the row did not exist). */
export interface Transition {
  from: ProductStatus | null;
  to: ProductStatus;
  by: readonly TransitionActor[];
  /** The event ends a publish attempt and counts in the success rate (latest_outcomes, latest_outcome_hours). */
  endsAttempt: boolean;
}

/** The state machine. Keep docs/architecture.md's diagram in step (a test compares them). */
export const TRANSITIONS: Readonly<Record<ProductEvent, Transition>> = {
  registered: { from: null, to: 'staging', by: ['api'], endsAttempt: false },
  publish_requested: { from: 'staging', to: 'staging', by: ['api'], endsAttempt: false },
  claimed: { from: 'staging', to: 'publishing', by: ['worker'], endsAttempt: false },
  // The type's validators passed (docs/product-types.md); refusing is a `failed` with error_class invalid.
  validated: { from: 'publishing', to: 'publishing', by: ['worker'], endsAttempt: false },
  lease_reclaimed: { from: 'publishing', to: 'staging', by: ['worker', 'reconciler'], endsAttempt: true },
  lease_released: { from: 'publishing', to: 'staging', by: ['worker'], endsAttempt: false },
  retry_scheduled: { from: 'publishing', to: 'staging', by: ['worker'], endsAttempt: true },
  failed: { from: 'publishing', to: 'failed', by: ['worker', 'reconciler'], endsAttempt: true },
  published: { from: 'publishing', to: 'published', by: ['worker'], endsAttempt: true },
  source_removed: { from: 'published', to: 'published', by: ['worker'], endsAttempt: false },
  retry_requested: { from: 'failed', to: 'staging', by: ['api'], endsAttempt: false },
  // Operator verbs (lifecycle.transitions.ts); each event carries actor, reason and detail.
  discarded: { from: 'failed', to: 'discarded', by: ['api'], endsAttempt: false },
  held_discarded: { from: 'staging', to: 'discarded', by: ['api'], endsAttempt: false },
  amended: { from: 'staging', to: 'staging', by: ['api'], endsAttempt: false },
  failed_amended: { from: 'failed', to: 'failed', by: ['api'], endsAttempt: false },
  held: { from: 'staging', to: 'staging', by: ['api'], endsAttempt: false },
  released: { from: 'staging', to: 'staging', by: ['api'], endsAttempt: false },
  retracted: { from: 'published', to: 'retracted', by: ['api'], endsAttempt: false },
  retraction_moved: { from: 'retracted', to: 'retracted', by: ['worker'], endsAttempt: false },
  discarded_source_removed: { from: 'discarded', to: 'discarded', by: ['worker'], endsAttempt: false },
};

/** Every event name, in the table's order. */
export const PRODUCT_EVENTS = Object.keys(TRANSITIONS) as ProductEvent[];
