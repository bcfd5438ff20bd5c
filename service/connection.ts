/**
 * Temporal connection settings through envconfig: TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE,
 * TEMPORAL_API_KEY, TLS settings and profiles (TEMPORAL_PROFILE, TEMPORAL_CONFIG_FILE), so the same
 * code runs against the local dev server, a self-hosted cluster or Temporal Cloud.
 */
import { Client, Connection } from '@temporalio/client';
import { loadClientConnectConfig } from '@temporalio/envconfig';
import type { DataConverter } from '@temporalio/common';
import { encryptionCodecFromEnv } from '../codec/encryption.js';

export interface TemporalSettings {
  address: string;
  namespace: string;
  /** Payload encryption, when ARKOR_PAYLOAD_KEY is set (see codec/encryption.ts). */
  dataConverter?: DataConverter;
  connectionOptions: ReturnType<typeof loadClientConnectConfig>['connectionOptions'];
}

export function loadTemporalSettings(): TemporalSettings {
  const config = loadClientConnectConfig();
  const codec = encryptionCodecFromEnv();
  return {
    address: config.connectionOptions.address ?? 'localhost:7233',
    namespace: config.namespace ?? 'default',
    connectionOptions: config.connectionOptions,
    ...(codec ? { dataConverter: { payloadCodecs: [codec] } } : {}),
  };
}

/** A client for services and the CLI. */
export async function connectClient(settings: TemporalSettings = loadTemporalSettings()): Promise<Client> {
  const connection = await Connection.connect(settings.connectionOptions);
  return new Client({
    connection,
    namespace: settings.namespace,
    ...(settings.dataConverter ? { dataConverter: settings.dataConverter } : {}),
  });
}
