/**
 * A real Temporal server for integration tests: the CLI dev server started through
 * `@temporalio/testing` on a free loopback port (with our search attributes registered), or the
 * server at TEMPORAL_ADDRESS when one is given. Temporal is never mocked.
 */
import { Client, Connection } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { ensureTemporalCli } from '../../scripts/temporal-cli.js';
import { searchAttributeKeys } from '../../contract/search-attributes.js';

export interface TemporalTestServer {
  client: Client;
  /** For workers created in the test process. */
  nativeConnection: NativeConnection;
  address: string;
  namespace: string;
  close(): Promise<void>;
}

let runtimeInstalled = false;

export async function startTemporal(): Promise<TemporalTestServer> {
  if (!runtimeInstalled) {
    // Worker state changes at INFO would drown the test report.
    Runtime.install({ logger: new DefaultLogger(process.env.TEST_LOG_LEVEL === 'debug' ? 'DEBUG' : 'WARN') });
    runtimeInstalled = true;
  }
  const external = process.env.TEMPORAL_ADDRESS;
  if (external) {
    const namespace = process.env.TEMPORAL_NAMESPACE ?? 'default';
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
      log: { format: 'pretty', level: 'error' },
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
