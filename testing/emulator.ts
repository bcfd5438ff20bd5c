/**
 * The Arkor emulator (`emulator/`) in this process, with what a test needs beside it: an
 * `ArkorClient` of its default identity, and the variables that point a worker process at it.
 *
 * ```ts
 * const emulator = await startTestEmulator({ stepMs: 5 });
 * after(() => emulator.close());
 * emulator.setBehaviour({ kind: 'nextJob' }, { failAtStep: { step: 3, error: 'out of memory' } });
 * ```
 */
import { ArkorClient } from '../arkor/index.js';
import { startEmulator, type Emulator, type EmulatorOptions } from '../emulator/index.js';

/** A running emulator (see `Emulator`: `close()` stops it) with a client of its default identity. */
export interface TestEmulator extends Emulator {
  /** An `ArkorClient` of the emulator's default identity, org and project. */
  readonly arkor: ArkorClient;
}

/** An `ArkorClient` of `emulator`'s default identity (token, org, project, deployment URLs). */
export function emulatorClient(emulator: Emulator): ArkorClient {
  return new ArkorClient({
    baseUrl: emulator.url,
    token: emulator.token,
    scope: { orgSlug: emulator.orgSlug, projectSlug: emulator.projectSlug },
    deploymentUrlTemplate: emulator.deploymentUrlTemplate,
  });
}

/**
 * The worker variables (`ARKOR_CLOUD_API_URL`, `ARKOR_TOKEN`, `ARKOR_ORG_SLUG`,
 * `ARKOR_PROJECT_SLUG`, `ARKOR_DEPLOYMENT_URL_TEMPLATE`) that point `worker.ts` at `emulator`.
 */
export function emulatorWorkerEnv(emulator: Emulator): Record<string, string> {
  return {
    ARKOR_CLOUD_API_URL: emulator.url,
    ARKOR_TOKEN: emulator.token,
    ARKOR_ORG_SLUG: emulator.orgSlug,
    ARKOR_PROJECT_SLUG: emulator.projectSlug,
    ARKOR_DEPLOYMENT_URL_TEMPLATE: emulator.deploymentUrlTemplate,
  };
}

/**
 * Starts the emulator in this process on 127.0.0.1 and a free port (`startEmulator`). Defaults
 * are the emulator's own (`DEFAULT_OPTIONS` of `emulator/`): 50 ms per training step, a stream
 * ping every 15 s, token `emulator-token`, org `local-org`, project `local-project`, seed 1.
 * Stop it with `close()`.
 */
export async function startTestEmulator(options: EmulatorOptions = {}): Promise<TestEmulator> {
  const emulator = await startEmulator(options);
  return { ...emulator, arkor: emulatorClient(emulator) };
}
