/**
 * A real Temporal server for tests and benchmarks: the Temporal CLI's dev server, started through
 * `@temporalio/testing` on a free loopback port with our search attributes registered, or the
 * server at `TEMPORAL_ADDRESS` when one is given. Temporal is never mocked.
 *
 * ```ts
 * const temporal = await startDevServer();
 * after(() => temporal.close());
 * ```
 */
import { Client, Connection } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, NativeConnection, Runtime, type LogLevel } from '@temporalio/worker';
import { dynamicConfigArgs } from '../scripts/dev-server.js';
import { ensureTemporalCli } from '../scripts/temporal-cli.js';
import { searchAttributeKeys } from '../contract/search-attributes.js';

/** A running (or borrowed) Temporal server and the connections to it. */
export interface DevServer {
  /** A client on the server's namespace (for `TrainingService`, handles, queries). */
  client: Client;
  /** For workers created in this process (`startTestWorker`). */
  nativeConnection: NativeConnection;
  /** `host:port` of the server's gRPC frontend (for a worker in a child process: `TEMPORAL_ADDRESS`). */
  address: string;
  /** The namespace `client` and `nativeConnection` work in (`default` for a server started here). */
  namespace: string;
  /** Closes the connections and, for a server this call started, stops it. */
  close(): Promise<void>;
}

/** Options of `startDevServer`; each has a default. */
export interface DevServerOptions {
  /**
   * An already running server to use instead of starting one; it is neither started nor stopped,
   * and its namespace must already have our search attributes (`scripts/search-attributes.ts`).
   * Default: `TEMPORAL_ADDRESS` when set, else a dev server is started.
   */
  address?: string;
  /** The namespace on a server given by `address`. Default: `TEMPORAL_NAMESPACE`, else `default`. */
  namespace?: string;
  /**
   * The level of the Temporal SDK's in-process logger (workers' state changes are at `INFO`).
   * Applied only when this process has not created its Temporal `Runtime` yet: the SDK's runtime
   * is a singleton, installed once. Default `WARN`.
   */
  workerLogLevel?: LogLevel;
  /** The dev server's own log level (its stderr). Default `error`. */
  serverLogLevel?: 'debug' | 'info' | 'warn' | 'error';
}

/**
 * Starts a Temporal dev server on 127.0.0.1 and a free port (namespace `default`), with the
 * search attributes of `contract/search-attributes.ts` registered, using the Temporal CLI that
 * `scripts/temporal-cli.ts` locates (`TEMPORAL_CLI_PATH`, else the cached build, else a build of
 * a few minutes the first time). With `address` (or `TEMPORAL_ADDRESS`) it connects to that
 * server instead. Stop it with `close()`.
 */
export async function startDevServer(options: DevServerOptions = {}): Promise<DevServer> {
  if (Runtime._instance === undefined) {
    Runtime.install({ logger: new DefaultLogger(options.workerLogLevel ?? 'WARN') });
  }
  const external = options.address ?? process.env.TEMPORAL_ADDRESS;
  if (external) {
    const namespace = options.namespace ?? process.env.TEMPORAL_NAMESPACE ?? 'default';
    const connection = await Connection.connect({ address: external });
    const nativeConnection = await NativeConnection.connect({ address: external });
    return {
      client: new Client({ connection, namespace }),
      nativeConnection,
      address: external,
      namespace,
      async close() {
        await nativeConnection.close();
        await connection.close();
      },
    };
  }
  const env = await TestWorkflowEnvironment.createLocal({
    server: {
      executable: { type: 'existing-path', path: await ensureTemporalCli() },
      ip: '127.0.0.1',
      searchAttributes: [...searchAttributeKeys],
      log: { format: 'pretty', level: options.serverLogLevel ?? 'error' },
      // Worker Versioning (scripts/dev-server.ts, DEV_SERVER_DYNAMIC_CONFIG).
      extraArgs: dynamicConfigArgs(),
    },
  });
  return {
    client: env.client,
    nativeConnection: env.nativeConnection,
    address: env.address,
    namespace: env.namespace ?? 'default',
    close: () => env.teardown(),
  };
}
