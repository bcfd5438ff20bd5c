/**
 * Starts the Temporal dev server for local use: `npm run temporal:dev`, `arkor-temporal server`.
 * The database persists in `.data/temporal.db` (ignored by git), the Web UI listens on
 * http://127.0.0.1:8233, and our search attributes are registered. Ctrl-C stops it.
 *
 * Ports: TEMPORAL_DEV_PORT (default 7233) and TEMPORAL_DEV_UI_PORT (default 8233), or the
 * `server` command's `--port` and `--ui-port`.
 */
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { searchAttributeKeys } from '../contract/search-attributes.js';
import { ensureTemporalCli } from './temporal-cli.js';
import { errorMessage } from '../contract/errors.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * Dynamic config of the dev servers we start (`npm run temporal:dev`, `npm run dev`, the tests'),
 * for Worker Versioning (README "Deploys"). Temporal Server 1.29 (Temporal CLI 1.5.1) has Worker
 * Deployments on by default; the first two keys say so explicitly (for a CLI built with an older
 * server, where they were a pre-release off by default), the last two make a version's drainage status (`arkor-temporal deploy status`) follow
 * its pinned runs within seconds instead of after the default 3 minutes: how often a draining
 * version counts its open pinned runs, and how long after a routing change it waits for
 * visibility to catch up first.
 */
export const DEV_SERVER_DYNAMIC_CONFIG: Readonly<Record<string, boolean | string>> = {
  'system.enableDeploymentVersions': true,
  'frontend.workerVersioningWorkflowAPIs': true,
  'matching.wv.VersionDrainageStatusRefreshInterval': '5s',
  'matching.wv.VersionDrainageStatusVisibilityGracePeriod': '5s',
};

/** `DEV_SERVER_DYNAMIC_CONFIG` as `temporal server start-dev` arguments (values are JSON). */
export function dynamicConfigArgs(): string[] {
  return Object.entries(DEV_SERVER_DYNAMIC_CONFIG).flatMap(([key, value]) => [
    '--dynamic-config-value',
    `${key}=${JSON.stringify(value)}`,
  ]);
}

/** The `temporal server start-dev` arguments for a persistent local server. */
export function devServerArgs(options: { port: number; uiPort: number; dbFile: string }): string[] {
  const typeNames = {
    KEYWORD: 'Keyword',
    TEXT: 'Text',
    INT: 'Int',
    DOUBLE: 'Double',
    BOOL: 'Bool',
    DATETIME: 'Datetime',
    KEYWORD_LIST: 'KeywordList',
  } as const;
  return [
    'server',
    'start-dev',
    '--ip',
    '127.0.0.1',
    '--port',
    String(options.port),
    '--ui-port',
    String(options.uiPort),
    '--db-filename',
    options.dbFile,
    '--log-level',
    'warn',
    ...searchAttributeKeys.flatMap((key) => ['--search-attribute', `${key.name}=${typeNames[key.type]}`]),
    ...dynamicConfigArgs(),
  ];
}

export interface DevServerOptions {
  /** gRPC port; default TEMPORAL_DEV_PORT, else 7233. */
  port?: number;
  /** Web UI port; default TEMPORAL_DEV_UI_PORT, else 8233. */
  uiPort?: number;
  /** Default `.data/temporal.db` in the repository. */
  dbFilename?: string;
}

/**
 * Runs the dev server until it exits (Ctrl-C stops it), then exits the process with its code.
 * Rejects when the Temporal CLI cannot be found or built.
 */
export async function runDevServer(options: DevServerOptions = {}): Promise<never> {
  const binary = await ensureTemporalCli();
  const dbFile = options.dbFilename ?? join(root, '.data', 'temporal.db');
  mkdirSync(dirname(resolve(dbFile)), { recursive: true });
  const port = options.port ?? Number(process.env.TEMPORAL_DEV_PORT ?? 7233);
  const uiPort = options.uiPort ?? Number(process.env.TEMPORAL_DEV_UI_PORT ?? 8233);
  const child = spawn(binary, devServerArgs({ port, uiPort, dbFile }), { stdio: 'inherit' });
  console.log(`Temporal dev server on 127.0.0.1:${port}, Web UI http://127.0.0.1:${uiPort}, data in ${dbFile}`);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => child.kill(signal));
  return new Promise<never>(() => child.on('exit', (code) => process.exit(code ?? 0)));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  runDevServer().catch((error: unknown) => {
    console.error(errorMessage(error));
    process.exit(1);
  });
}
