/**
 * Testing your callbacks against a real Temporal dev server and the Arkor emulator: the
 * `arkor-temporal/testing` entry point. The same kit runs this project's own tests and
 * benchmarks. Every server binds 127.0.0.1 on a free port; stop what you start.
 *
 * ```ts
 * import { startTestEnvironment, trainingInput } from 'arkor-temporal/testing';
 *
 * const env = await startTestEnvironment({ emulator: { stepMs: 5 } });
 * try {
 *   await env.startWorker({ callbacksModule: '/abs/path/to/my-callbacks.ts' });
 *   const result = await env.runTraining(trainingInput({ trainer: { maxSteps: 12 } }));
 *   // result.outcome === 'completed'; your callbacks ran against the emulator's events
 * } finally {
 *   await env.close();
 * }
 * ```
 *
 * Or piece by piece: `startDevServer`, `startTestEmulator`, `startTestWorker`.
 */
/** Server, emulator, service and workers started and stopped together. */
export {
  startTestEnvironment,
  type EnvironmentWorkerOptions,
  type TestEnvironment,
  type TestEnvironmentOptions,
} from './environment.js';
/** A Temporal dev server on a free loopback port, with our search attributes. */
export { startDevServer, type DevServer, type DevServerOptions } from './dev-server.js';
/** The Arkor emulator in this process, and a client of it. */
export { emulatorClient, emulatorWorkerEnv, startTestEmulator, type TestEmulator } from './emulator.js';
/** A training worker in this process, loading your callbacks module. */
export { startTestWorker, type TestWorker, type TestWorkerOptions } from './worker.js';
/** A valid run input for the emulator. */
export { trainingInput } from './training-input.js';
/** A `worker.ts` child process (`TestEnvironment.spawnWorker`). */
export type { ChildWorker } from './worker-process.js';
/** The emulator's options and the behaviours a test can give its jobs (`emulator.setBehaviour`). */
export type { EmulatorOptions, JobBehaviour, BehaviourTarget } from '../emulator/index.js';
