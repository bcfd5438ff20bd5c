/**
 * Starts the Temporal dev server for local use: `npm run temporal:dev`. The database persists in
 * `.data/temporal.db` (ignored by git), the Web UI listens on http://127.0.0.1:8233, and our
 * search attributes are registered. Ctrl-C stops it.
 *
 * Ports: TEMPORAL_DEV_PORT (default 7233) and TEMPORAL_DEV_UI_PORT (default 8233).
 */
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { searchAttributeKeys } from '../contract/search-attributes.js';
import { ensureTemporalCli } from './temporal-cli.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

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
  ];
}

async function main(): Promise<void> {
  const binary = await ensureTemporalCli();
  const dataDir = join(root, '.data');
  mkdirSync(dataDir, { recursive: true });
  const port = Number(process.env.TEMPORAL_DEV_PORT ?? 7233);
  const uiPort = Number(process.env.TEMPORAL_DEV_UI_PORT ?? 8233);
  const child = spawn(binary, devServerArgs({ port, uiPort, dbFile: join(dataDir, 'temporal.db') }), {
    stdio: 'inherit',
  });
  console.log(`Temporal dev server on 127.0.0.1:${port}, Web UI http://127.0.0.1:${uiPort}, data in .data/temporal.db`);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => child.kill(signal));
  child.on('exit', (code) => process.exit(code ?? 0));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
}
