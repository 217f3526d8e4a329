import './thread-pool';
import { runProcess } from '../core/lifecycle/run-process';
import { startWorker } from './worker-runtime';

/** The worker process: configuration → start-up checks → BullMQ worker, reconciler, heartbeat, metrics. */
void runProcess({
  service: 'ferry-worker',
  role: 'worker',
  // Copies get SHUTDOWN_GRACE_SECONDS; cleanup and closing get 5 s more before a forced exit.
  forceAfterMs: (config) => config.shutdown.graceMs + 5000,
  survivesUnhandledRejections: true,
  build: async ({ config, logger, shutdown }) => {
    await startWorker(config, logger, { shutdown });
  },
});
