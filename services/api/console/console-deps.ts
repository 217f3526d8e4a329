import type { Redis } from 'ioredis';
import type { Config } from '../../core/config';
import type { RegistryDeps } from '../../core/domain/registry-deps';
import type { SessionDeps } from '../../core/domain/console/open-session';
import type { Metrics } from '../../core/metrics/create-metrics';

/** What the console's routes need: the registry operations, Redis (heartbeats, sign-in limit), sessions. */
export interface ConsoleDeps extends RegistryDeps {
  redis: Redis;
  config: Config;
  metrics: Metrics;
  sessions: SessionDeps;
}
