import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  continuationOf,
  deliverySchema,
  positionAfter,
  STREAM_START,
  type StreamPosition,
} from '../contract/delivery.js';
import type { RunEvent } from '../contract/events.js';
import { logEvent } from './support/run-events.js';

const log = logEvent;

const steps = (events: RunEvent[] | undefined) =>
  events?.map((event) => (event.payload.type === 'training.log' ? event.payload.step : -1));

describe('delivery positions', () => {
  const stream = [log(1), log(2), log(3), log(4, null), log(5, null), log(6), log(7)];

  it('a delivery from the run’s position is accepted whole', () => {
    const at = positionAfter(STREAM_START, stream.slice(0, 2));
    assert.deepEqual(steps(continuationOf(at, { after: at, events: stream.slice(2, 5) })), [3, 4, 5]);
  });

  it('a delivery from behind is trimmed to what is new, id-less events included', () => {
    const at = positionAfter(STREAM_START, stream.slice(0, 4));
    assert.deepEqual(at, { cursor: '3', offset: 1 } satisfies StreamPosition);
    assert.deepEqual(steps(continuationOf(at, { after: STREAM_START, events: stream })), [5, 6, 7]);
    assert.deepEqual(
      steps(continuationOf(at, { after: { cursor: '2', offset: 0 }, events: stream.slice(2) })),
      [5, 6, 7],
    );
  });

  it('a delivery that ends at the run’s position adds nothing; one that never reaches it is refused', () => {
    const at = positionAfter(STREAM_START, stream);
    assert.deepEqual(continuationOf(at, { after: STREAM_START, events: stream }), []);
    assert.equal(
      continuationOf(at, { after: STREAM_START, events: stream.slice(0, 3) }),
      undefined,
      'stale: far behind',
    );
    const behind = positionAfter(STREAM_START, stream.slice(0, 2));
    assert.equal(continuationOf(behind, { after: at, events: [log(8)] }), undefined, 'ahead of the run');
  });

  it('the schema refuses a malformed delivery, naming the field', () => {
    const parsed = deliverySchema.safeParse({
      after: { offset: 0 },
      events: [{ id: '1', payload: { type: 'training.log', timestamp: 't' } }],
    });
    assert.equal(parsed.success, false);
    assert.match(parsed.error?.issues.map((issue) => issue.path.join('.')).join(' ') ?? '', /events\.0\.payload\.step/);
    assert.equal(deliverySchema.safeParse(null).success, false);
    assert.equal(deliverySchema.safeParse({ after: STREAM_START, events: stream }).success, true);
  });
});
