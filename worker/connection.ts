/**
 * The worker's connection to Temporal: a native one, from the same envconfig settings as clients.
 * Apart from service/connection.ts so that a service that only starts runs never loads the
 * worker's native bridge.
 */
import { NativeConnection } from '@temporalio/worker';
import { loadTemporalSettings, type TemporalSettings } from '../service/connection.js';

export function connectWorker(settings: TemporalSettings = loadTemporalSettings()): Promise<NativeConnection> {
  return NativeConnection.connect(settings.connectionOptions);
}
