import type { Config } from '../../config';
import type { StagedSource } from '../../publish/stage-path';
import type { ReadyRegistration } from './register-product';

/**
 * True when the worker's group claim would take this source: a file of at most
 * PUBLISH_GROUP_MAX_BYTES. The claim says the same in SQL (groupMember in
 * publishing.transitions.ts); group-rule.test.ts holds the two to the same answers.
 */
export function isGroupable(groupMaxBytes: number, source: Pick<StagedSource, 'kind' | 'sizeBytes'>): boolean {
  return groupMaxBytes > 0 && source.kind === 'file' && source.sizeBytes <= groupMaxBytes;
}

/**
 * Which products registered together get a queued job of their own. A small file that the worker
 * publishes in groups (PUBLISH_GROUP_MAX_BYTES, PUBLISH_GROUP_SIZE) needs none: one job in each
 * group's worth of them is enough, because a job that publishes a group goes on claiming groups
 * of the small files due until none is left (the worker's drain). Every other product keeps its
 * job. A batch of 500 then costs four or eight queue entries instead of 500, and the worker
 * removes no jobs for the group's other members (docs/performance.md, fourteenth pass).
 * Registrations come in the order given, so each group's worth is led by its first product. They
 * are counted per data type: a pause is per type, and a job that met one waits (and is promoted
 * when it is lifted) for the products of its own type, which its group and drain then take. A
 * product left without a job is never lost: the reconciler enqueues every due product the queue
 * lacks.
 */
export function productsToEnqueue(publish: Pick<Config['publish'], 'groupMaxBytes' | 'groupSize'>, created: readonly ReadyRegistration[]): string[] {
  const ids: string[] = [];
  const grouped = new Map<string, number>();
  for (const r of created) {
    const groupable = isGroupable(publish.groupMaxBytes, r.source);
    const n = grouped.get(r.input.data_type) ?? 0;
    if (groupable) grouped.set(r.input.data_type, n + 1);
    if (!groupable || n % publish.groupSize === 0) ids.push(r.input.data_id);
  }
  return ids;
}
