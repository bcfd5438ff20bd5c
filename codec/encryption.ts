/**
 * An optional payload codec that encrypts every payload (inputs, results, signals, heartbeats,
 * memos) with AES-256-GCM before it leaves the process, so the Temporal server and its history
 * hold ciphertext only. Workers and clients that share the key read everything as usual.
 *
 * Key: `ARKOR_PAYLOAD_KEY` (32 bytes, base64) with an id in `ARKOR_PAYLOAD_KEY_ID` (default
 * `default`). The key id travels in each payload's metadata, so keys can be rotated: a codec
 * that knows several keys decodes payloads of any of them and encodes with the first.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { Payload, PayloadCodec } from '@temporalio/common';
import proto from '@temporalio/proto';

const { temporal } = proto;

/** The `encoding` metadata of an encrypted payload. */
export const ENCRYPTED_ENCODING = 'binary/encrypted';
const ENCODING = ENCRYPTED_ENCODING;
const ALGORITHM = 'aes-256-gcm';
const IV_BYTES = 12;
const TAG_BYTES = 16;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The payload key is missing, malformed, or does not decrypt a payload. */
export class PayloadKeyError extends Error {
  override readonly name = 'PayloadKeyError';
}

export class EncryptionCodec implements PayloadCodec {
  private readonly keys: ReadonlyMap<string, Buffer>;
  private readonly encodingKeyId: string;

  /** `keys`: key id → 32-byte key; the first encodes, all decode. */
  constructor(keys: ReadonlyArray<readonly [string, Buffer]>) {
    const first = keys[0];
    if (!first) throw new PayloadKeyError('an encryption codec needs at least one key');
    for (const [id, key] of keys) {
      if (key.length !== 32) throw new PayloadKeyError(`payload key "${id}" must be 32 bytes (it is ${key.length})`);
    }
    this.keys = new Map(keys);
    this.encodingKeyId = first[0];
  }

  encode(payloads: Payload[]): Promise<Payload[]> {
    const key = this.keys.get(this.encodingKeyId);
    if (!key) return Promise.reject(new PayloadKeyError('no encoding key'));
    // The executor turns a throw into a rejection, as an async codec would.
    return new Promise((resolvePayloads) =>
      resolvePayloads(
        payloads.map((payload) => {
          const iv = randomBytes(IV_BYTES);
          const cipher = createCipheriv(ALGORITHM, key, iv);
          const plain = temporal.api.common.v1.Payload.encode(payload).finish();
          const data = Buffer.concat([iv, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
          return {
            metadata: { encoding: encoder.encode(ENCODING), 'encryption-key-id': encoder.encode(this.encodingKeyId) },
            data,
          };
        }),
      ),
    );
  }

  decode(payloads: Payload[]): Promise<Payload[]> {
    return new Promise((resolvePayloads) =>
      resolvePayloads(
        payloads.map((payload) => {
          const encoding = payload.metadata?.encoding;
          if (!encoding || decoder.decode(encoding) !== ENCODING) return payload;
          const keyIdBytes = payload.metadata?.['encryption-key-id'];
          const keyId = keyIdBytes ? decoder.decode(keyIdBytes) : '';
          const key = this.keys.get(keyId);
          if (!key) throw new PayloadKeyError(`no payload key with id "${keyId}" to decrypt this payload`);
          const data = Buffer.from(payload.data ?? new Uint8Array());
          const iv = data.subarray(0, IV_BYTES);
          const tag = data.subarray(data.length - TAG_BYTES);
          const decipher = createDecipheriv(ALGORITHM, key, iv);
          decipher.setAuthTag(tag);
          const plain = Buffer.concat([
            decipher.update(data.subarray(IV_BYTES, data.length - TAG_BYTES)),
            decipher.final(),
          ]);
          return temporal.api.common.v1.Payload.decode(plain);
        }),
      ),
    );
  }
}

/**
 * The codec configured by the environment, or undefined when ARKOR_PAYLOAD_KEY is not set.
 * `ARKOR_PAYLOAD_KEY` may list several comma-separated `id:base64` entries (the first encodes)
 * or be a single base64 key with `ARKOR_PAYLOAD_KEY_ID` naming it.
 */
export function encryptionCodecFromEnv(env: NodeJS.ProcessEnv = process.env): EncryptionCodec | undefined {
  const value = env.ARKOR_PAYLOAD_KEY?.trim();
  if (!value) return undefined;
  const entries = value.split(',').map((entry, index) => {
    const [id, key] = entry.includes(':') ? entry.split(':', 2) : [env.ARKOR_PAYLOAD_KEY_ID ?? 'default', entry];
    const bytes = Buffer.from(key ?? '', 'base64');
    if (bytes.length !== 32) {
      throw new PayloadKeyError(
        `ARKOR_PAYLOAD_KEY entry ${index + 1} must be 32 bytes of base64 (got ${bytes.length} bytes)`,
      );
    }
    return [(id ?? '').trim() || 'default', bytes] as const;
  });
  return new EncryptionCodec(entries);
}
