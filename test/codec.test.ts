import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Client } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { EncryptionCodec, PayloadKeyError, encryptionCodecFromEnv } from '../codec/encryption.js';
import { TrainingService } from '../service/index.js';
import { historyText } from './support/history-text.js';
import { startHarness, trainingInput, type Harness } from './support/harness.js';

const key = (): Buffer => randomBytes(32);

describe('payload encryption codec', () => {
  it('round-trips payloads and hides their content', async () => {
    const codec = new EncryptionCodec([['k1', key()]]);
    const payload = defaultPayloadConverter.toPayload({ secret: 'top-secret-value' });
    const [encoded] = await codec.encode([payload]);
    assert.ok(encoded);
    assert.ok(
      !Buffer.from(encoded.data ?? [])
        .toString('latin1')
        .includes('top-secret-value'),
    );
    assert.equal(new TextDecoder().decode(encoded.metadata?.encoding), 'binary/encrypted');
    const [decoded] = await codec.decode([encoded]);
    assert.deepEqual(defaultPayloadConverter.fromPayload(decoded!), { secret: 'top-secret-value' });
  });

  it('decodes payloads of an older key after rotation, and refuses an unknown key', async () => {
    const old = key();
    const [encoded] = await new EncryptionCodec([['old', old]]).encode([defaultPayloadConverter.toPayload('x')]);
    const rotated = new EncryptionCodec([
      ['new', key()],
      ['old', old],
    ]);
    assert.equal(defaultPayloadConverter.fromPayload((await rotated.decode([encoded!]))[0]!), 'x');
    await assert.rejects(new EncryptionCodec([['new', key()]]).decode([encoded!]), PayloadKeyError);
  });

  it('is configured by ARKOR_PAYLOAD_KEY, and rejects a malformed key naming the variable', () => {
    assert.equal(encryptionCodecFromEnv({}), undefined);
    assert.ok(encryptionCodecFromEnv({ ARKOR_PAYLOAD_KEY: key().toString('base64') }));
    assert.ok(
      encryptionCodecFromEnv({ ARKOR_PAYLOAD_KEY: `a:${key().toString('base64')},b:${key().toString('base64')}` }),
    );
    assert.throws(
      () => encryptionCodecFromEnv({ ARKOR_PAYLOAD_KEY: 'c2hvcnQ=' }),
      /ARKOR_PAYLOAD_KEY entry 1 must be 32 bytes/,
    );
  });
});

describe('an encrypted training run', () => {
  let h: Harness;
  const codec = new EncryptionCodec([['test', key()]]);
  before(async () => {
    h = await startHarness();
    await h.startWorker({ dataConverter: { payloadCodecs: [codec] } });
  });
  after(async () => h?.close());

  it('keeps ciphertext in the history while status and results read clearly', async () => {
    const client = new Client({
      connection: h.temporal.client.connection,
      namespace: h.temporal.namespace,
      dataConverter: { payloadCodecs: [codec] },
    });
    const service = new TrainingService(client, { taskQueue: h.taskQueue });
    // Workflow ids are never encrypted (the server routes on them): name the run independently.
    const { workflowId } = await service.start(
      trainingInput({ trainer: { name: 'encrypted-run-name-7f3', maxSteps: 5 } }),
      {
        workflowId: `codec-${Date.now()}`,
      },
    );
    const result = await service.outcome(workflowId);
    assert.equal(result.outcome, 'completed');
    const status = await service.status(workflowId);
    assert.equal(status.name, 'encrypted-run-name-7f3');
    // Without the key (the server's view), the history has no trace of the plaintext.
    const handle = h.temporal.client.workflow.getHandle(workflowId);
    const raw = await historyText(handle);
    assert.ok(raw.includes('binary/encrypted'));
    for (const plaintext of ['encrypted-run-name-7f3', 'arkor/demo', 'training.log', 'checkpoint.saved']) {
      assert.ok(!raw.includes(plaintext), `${plaintext} in the history`);
    }
    const history = await handle.fetchHistory();
    const started = history.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
    assert.equal(new TextDecoder().decode(started?.metadata?.encoding ?? new Uint8Array()), 'binary/encrypted');
  });
});
