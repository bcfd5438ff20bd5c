// Run by scripts/check-package.ts inside the consumer directory: imports the service entry and
// reports its exports, the time and memory it took, and whether the worker was loaded.
import { createRequire } from 'node:module';
const started = performance.now();
const service = await import('arkor-temporal');
const ms = Math.round(performance.now() - started);
const loaded = Object.keys(createRequire(import.meta.url).cache);
console.log(
  JSON.stringify({
    exports: Object.keys(service),
    ms,
    rssMiB: Math.round(process.memoryUsage().rss / 2 ** 20),
    workerLoaded: loaded.some((path) => path.includes('@temporalio/worker') || path.includes('core-bridge')),
  }),
);
