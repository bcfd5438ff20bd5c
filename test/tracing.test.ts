import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { Client } from '@temporalio/client';
import { OpenTelemetryWorkflowClientInterceptor } from '@temporalio/interceptors-opentelemetry';
import { TrainingService } from '../service/index.js';
import { workerTracing } from '../worker/tracing.js';
import { eventually, startHarness, trainingInput, type Harness } from './support/harness.js';

// One trace from the client's start to every activity of the run: the client interceptor, the
// bundle's workflow interceptors (their spans leave the sandbox through the worker's sink) and
// the activity interceptor, all into one in-memory exporter.
describe('tracing a training run', () => {
  const exporter = new InMemorySpanExporter();
  // Registered globally: the Arkor client's HTTP spans use the global tracer provider.
  const tracing = workerTracing(new SimpleSpanProcessor(exporter), { register: true });
  let h: Harness;
  before(async () => {
    h = await startHarness();
    await h.startWorker({ tracing });
  });
  after(async () => {
    await h?.close();
    await tracing.shutdown();
  });

  it('has one trace from StartWorkflow through RunWorkflow to each activity', async () => {
    const client = new Client({
      connection: h.temporal.client.connection,
      namespace: h.temporal.namespace,
      interceptors: { workflow: [new OpenTelemetryWorkflowClientInterceptor({ tracer: tracing.tracer })] },
    });
    const service = new TrainingService(client, { taskQueue: h.taskQueue });
    const { workflowId } = await service.start(
      trainingInput({ trainer: { name: 'traced', maxSteps: 4, loggingSteps: 1, saveSteps: 2 } }),
    );
    assert.equal((await service.outcome(workflowId)).outcome, 'completed');

    const spans = await eventually(() => {
      const finished = exporter.getFinishedSpans();
      return finished.some((span) => span.name === 'RunWorkflow:trainingRun') ? finished : undefined;
    });
    const start = spans.find((span) => span.name === 'StartWorkflow:trainingRun');
    assert.ok(start, `no StartWorkflow span in ${names(spans)}`);
    const traceId = start.spanContext().traceId;
    const ofRun = spans.filter((span) => span.spanContext().traceId === traceId);
    const byId = new Map(ofRun.map((span) => [span.spanContext().spanId, span]));
    const parent = (span: ReadableSpan): ReadableSpan | undefined =>
      span.parentSpanId === undefined ? undefined : byId.get(span.parentSpanId);

    const run = ofRun.find((span) => span.name === 'RunWorkflow:trainingRun');
    assert.ok(run, `RunWorkflow is not in the client's trace: ${names(spans)}`);
    assert.equal(parent(run), start);
    for (const activity of ['submitJob', 'followJob', 'onStarted', 'onCheckpoint', 'onCompleted']) {
      const started = ofRun.find((span) => span.name === `StartActivity:${activity}`);
      assert.ok(started, `no StartActivity:${activity} in the trace: ${names(ofRun)}`);
      assert.equal(parent(started), run, `StartActivity:${activity} is not a child of RunWorkflow`);
      const ran = ofRun.filter((span) => span.name === `RunActivity:${activity}`);
      assert.ok(ran.length > 0, `no RunActivity:${activity} in the trace: ${names(ofRun)}`);
      for (const span of ran) assert.equal(parent(span)?.name, `StartActivity:${activity}`);
    }
    // The stream's deliveries (updates from followJob's client) are in it too, under its RunActivity.
    const delivered = ofRun.filter((span) => span.name === 'HandleUpdate:arkor.deliver');
    assert.ok(delivered.length > 0, `no delivery in the trace: ${names(ofRun)}`);
    const ancestors = (span: ReadableSpan): string[] => {
      const up = parent(span);
      return up ? [up.name, ...ancestors(up)] : [];
    };
    for (const span of delivered) {
      const chain = ancestors(span);
      assert.equal(chain[0], 'StartWorkflowUpdate:arkor.deliver', chain.join(' < '));
      assert.ok(chain.includes('RunActivity:followJob'), chain.join(' < '));
    }
    // Every span the run produced is in that one trace.
    assert.deepEqual(
      spans.filter((span) => span.spanContext().traceId !== traceId).map((span) => span.name),
      [],
    );
    // The HTTP calls to Arkor are client spans of the activities that make them.
    const submitted = ofRun.find((span) => span.name === 'POST /v1/jobs');
    assert.equal(submitted && parent(submitted)?.name, 'RunActivity:submitJob', `no POST /v1/jobs: ${names(ofRun)}`);
    const streamed = ofRun.filter((span) => span.name === 'GET /v1/jobs/:id/events/stream');
    assert.ok(streamed.length > 0, `no event stream request: ${names(ofRun)}`);
    for (const span of streamed) {
      assert.equal(parent(span)?.name, 'RunActivity:followJob');
      assert.match(String(span.attributes['url.path']), /^\/v1\/jobs\/[^/:]+\/events\/stream$/);
    }
    // Span names are routes: no job id in any, so spans group by route.
    const jobIds = new Set(h.emulator.stats().jobs.map((job) => job.id));
    assert.deepEqual(
      ofRun.filter((span) => [...jobIds].some((id) => span.name.includes(id))).map((span) => span.name),
      [],
    );
  });
});

const names = (spans: ReadableSpan[]): string => [...new Set(spans.map((span) => span.name))].join(', ');
