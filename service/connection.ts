/**
 * Temporal connection settings through envconfig: TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE,
 * TEMPORAL_API_KEY, TLS settings and profiles (TEMPORAL_PROFILE, TEMPORAL_CONFIG_FILE), so the same
 * code runs against the local dev server, a self-hosted cluster or Temporal Cloud.
 */
import { Client, Connection } from '@temporalio/client';
import { loadClientConnectConfig } from '@temporalio/envconfig';
import { NativeConnection } from '@temporalio/worker';

export interface TemporalSettings {
  address: string;
  namespace: string;
  connectionOptions: ReturnType<typeof loadClientConnectConfig>['connectionOptions'];
}

export function loadTemporalSettings(): TemporalSettings {
  const config = loadClientConnectConfig();
  return {
    address: config.connectionOptions.address ?? 'localhost:7233',
    namespace: config.namespace ?? 'default',
    connectionOptions: config.connectionOptions,
  };
}

/** A client for services and the CLI. */
export async function connectClient(settings: TemporalSettings = loadTemporalSettings()): Promise<Client> {
  const connection = await Connection.connect(settings.connectionOptions);
  return new Client({ connection, namespace: settings.namespace });
}

/** A connection for workers. */
export function connectWorker(settings: TemporalSettings = loadTemporalSettings()): Promise<NativeConnection> {
  return NativeConnection.connect(settings.connectionOptions);
}
