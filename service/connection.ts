/**
 * Temporal connection settings through envconfig: TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE,
 * TEMPORAL_API_KEY, TLS settings and profiles (TEMPORAL_PROFILE, TEMPORAL_CONFIG_FILE), so the same
 * code runs against the local dev server, a self-hosted cluster or Temporal Cloud. Explicit
 * overrides (the CLI's `--address`, `--tls-cert-path`, ...) are layered over what envconfig loads.
 */
import { Client, Connection } from '@temporalio/client';
import { loadClientConfigProfile, toClientOptions, type ClientConfigProfile } from '@temporalio/envconfig';
import type { DataConverter } from '@temporalio/common';
import { encryptionCodecFromEnv } from '../codec/encryption.js';
import { optionalOpenTelemetryInterceptors } from './otel-interceptors.js';

export interface TemporalSettings {
  address: string;
  namespace: string;
  /** Payload encryption, when ARKOR_PAYLOAD_KEY is set (see codec/encryption.ts). */
  dataConverter?: DataConverter;
  connectionOptions: ReturnType<typeof toClientOptions>['connectionOptions'];
  /** How long a client connection may take to reach the server; default the SDK's (10 s). */
  connectTimeoutMs?: number;
}

/**
 * Settings that win over the environment and the config file, named after the Temporal CLI's
 * flags. Undefined means "as envconfig says".
 */
export interface ConnectionOverrides {
  address?: string;
  namespace?: string;
  apiKey?: string;
  /** `true`: TLS with the system roots; `false`: plain text even if the profile says TLS. */
  tls?: boolean;
  tlsCertPath?: string;
  tlsKeyPath?: string;
  tlsCaPath?: string;
  tlsServerName?: string;
  /** The envconfig profile (else TEMPORAL_PROFILE, else `default`). */
  profile?: string;
  /** The envconfig TOML file (else TEMPORAL_CONFIG_FILE, else the default location). */
  configFile?: string;
  connectTimeoutMs?: number;
}

export function loadTemporalSettings(overrides: ConnectionOverrides = {}): TemporalSettings {
  const profile = applyOverrides(
    loadClientConfigProfile({
      ...(overrides.profile === undefined ? {} : { profile: overrides.profile }),
      ...(overrides.configFile === undefined ? {} : { configSource: { path: overrides.configFile } }),
    }),
    overrides,
  );
  const config = toClientOptions(profile);
  const codec = encryptionCodecFromEnv();
  return {
    address: config.connectionOptions.address ?? 'localhost:7233',
    namespace: config.namespace ?? 'default',
    connectionOptions: config.connectionOptions,
    ...(overrides.connectTimeoutMs === undefined ? {} : { connectTimeoutMs: overrides.connectTimeoutMs }),
    ...(codec ? { dataConverter: { payloadCodecs: [codec] } } : {}),
  };
}

/** The profile envconfig loaded, with each given override in place of its setting. */
export function applyOverrides(profile: ClientConfigProfile, overrides: ConnectionOverrides): ClientConfigProfile {
  const result: ClientConfigProfile = { ...profile };
  if (overrides.address !== undefined) result.address = overrides.address;
  if (overrides.namespace !== undefined) result.namespace = overrides.namespace;
  if (overrides.apiKey !== undefined) result.apiKey = overrides.apiKey;
  const tlsGiven =
    overrides.tls !== undefined ||
    overrides.tlsCertPath !== undefined ||
    overrides.tlsKeyPath !== undefined ||
    overrides.tlsCaPath !== undefined ||
    overrides.tlsServerName !== undefined;
  if (tlsGiven) {
    const tls = { ...profile.tls };
    // A certificate or server name implies TLS, as in the Temporal CLI; only `tls: false` disables it.
    tls.disabled = overrides.tls === false;
    if (overrides.tlsCertPath !== undefined) tls.clientCert = { path: overrides.tlsCertPath };
    if (overrides.tlsKeyPath !== undefined) tls.clientKey = { path: overrides.tlsKeyPath };
    if (overrides.tlsCaPath !== undefined) tls.serverCACert = { path: overrides.tlsCaPath };
    if (overrides.tlsServerName !== undefined) tls.serverName = overrides.tlsServerName;
    result.tls = tls;
  }
  return result;
}

/** A client for services and the CLI. */
export async function connectClient(settings: TemporalSettings = loadTemporalSettings()): Promise<Client> {
  const connection = lazyConnection(settings);
  await connection.ensureConnected();
  return clientOn(connection, settings);
}

/** A connection that connects on first use or `ensureConnected()`, and can be closed before. */
export function lazyConnection(settings: TemporalSettings): Connection {
  return Connection.lazy({
    ...settings.connectionOptions,
    ...(settings.connectTimeoutMs === undefined ? {} : { connectTimeout: settings.connectTimeoutMs }),
  });
}

/**
 * A client of `settings`' namespace and payload codec on `connection`. Where
 * `@temporalio/interceptors-opentelemetry` is installed, its starts carry the active trace to the
 * run (README "Tracing"): in a process with a global OpenTelemetry tracer provider they open a
 * `StartWorkflow` span; without one they record nothing.
 */
export function clientOn(connection: Connection, settings: TemporalSettings): Client {
  const tracing = optionalOpenTelemetryInterceptors();
  return new Client({
    connection,
    namespace: settings.namespace,
    ...(tracing ? { interceptors: { workflow: [new tracing.OpenTelemetryWorkflowClientInterceptor()] } } : {}),
    ...(settings.dataConverter ? { dataConverter: settings.dataConverter } : {}),
  });
}
