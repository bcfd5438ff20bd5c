/**
 * The worker process from the repository (`npm run worker`); the package's is
 * `arkor-temporal worker`. Both run worker/process.ts; see it for settings and shutdown.
 */
import { errorMessage } from './contract/errors.js';
import { runWorkerProcess } from './worker/process.js';

runWorkerProcess().catch((error: unknown) => {
  console.error(errorMessage(error));
  process.exit(1);
});
