/**
 * The worker process: `npm run worker` (`exec node --import tsx worker.ts`), the same as
 * `arkor-temporal worker` without flags. Everything is in worker/main.ts.
 */
import { runWorker } from './worker/main.js';

runWorker().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
