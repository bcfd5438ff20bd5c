/**
 * Builds the Temporal workers of one process: the main queue (workflows, submit, callbacks,
 * cancel) and the stream queue (wait activities), each with its own concurrency limit, so
 * that hours-long streams never take the slots callbacks need.
 */
import { hostname } from 'node:os';
import type { WorkflowClientInterceptor } from '@temporalio/client';
import type { DataConverter, WorkerDeploymentVersion } from '@temporalio/common';
import {
  type ActivityInterceptorsFactory,
  type InjectedSinks,
  type NativeConnection,
  Worker,
  type WorkerOptions,
} from '@temporalio/worker';
import { createActivities, createStreamQueueActivities, type ActivityDeps } from '../activities/index.js';
import { keepAliveInterceptor } from './keep-alive-interceptor.js';
import { jobLogAttributesInterceptor } from './logging.js';
import { trainingMetricsSinks, type TrainingMetricsOptions } from './training-metrics.js';
import { streamTaskQueue } from '../contract/task-queues.js';
import { workflowBundlePath } from './bundle.js';
import { requireOpenTelemetryInterceptors } from '../service/otel-interceptors.js';
import type { WorkerTracing } from './tracing.js';
import {
  registerVersion,
  workerDeploymentOptions,
  type PolledQueue,
  type VersionReadiness,
  type WorkerVersioning,
} from './versioning.js';

export interface TrainingWorkerOptions {
  connection: NativeConnection;
  namespace?: string;
  taskQueue: string;
  deps: ActivityDeps;
  /** Which queues to poll. Default `all`. */
  queues?: 'all' | 'main' | 'streams';
  /** Streams followed at once. Default 200. */
  maxStreams?: number;
  /** Short activities (callbacks, submit, cancel) at once. Default 20. */
  maxActivities?: number;
  /**
   * Workflow runs kept in memory between their tasks (main queue). An evicted run is replayed
   * from its history on its next task: CPU for memory, cheap here since continue-as-new keeps
   * histories short. `0` disables the cache. Default: the SDK's, sized from the V8 heap limit,
   * `max(floor((heapLimit − 200 MiB) × 600 / 1024 MiB), 10)` (≈ 2,300 with a 4 GiB heap).
   */
  maxCachedWorkflows?: number;
  /**
   * Grace time for callbacks and other short activities at shutdown, in ms. Default 10 000.
   * Streams get none: see the stream worker below.
   */
  shutdownGraceMs?: number;
  /** Payload codecs (encryption); must match the clients'. */
  dataConverter?: DataConverter;
  /** The training metrics' labels (ARKOR_METRICS_RUN_LABEL). */
  metrics?: TrainingMetricsOptions;
  /**
   * Where spans go (worker/tracing.ts: `tracingFromEnv`, or `workerTracing` over any span
   * processor). Default: none, the workflows' spans are dropped and activities open none.
   */
  tracing?: WorkerTracing;
  /**
   * Worker Versioning: the deployment version both queues poll as, every workflow PINNED to it
   * (worker/versioning.ts). Default: none, an unversioned worker.
   */
  versioning?: WorkerVersioning;
  /**
   * The workflow code, as the SDK's `workflowBundle` option. Default: this package's workflows
   * (`workflowBundlePath()`). Another version of the workflows needs a build id of its own.
   */
  workflowBundle?: WorkerOptions['workflowBundle'];
}

export interface TrainingWorkers {
  /** The version the workers poll as; undefined for unversioned workers. */
  readonly version: WorkerDeploymentVersion | undefined;
  /** Runs until `shutdown()` (or a fatal worker error); resolves once every worker stopped. */
  run(): Promise<void>;
  /**
   * Once `run()` polls: where the version stands — registered with the server with every queue
   * it polls, and current if `versioning.becomeCurrent` made it so. Undefined for unversioned
   * workers (at once). Never rejects.
   */
  ready(): Promise<VersionReadiness | undefined>;
  shutdown(): void;
}

export async function createTrainingWorkers(options: TrainingWorkerOptions): Promise<TrainingWorkers> {
  const queues = options.queues ?? 'all';
  const common = {
    connection: options.connection,
    namespace: options.namespace ?? 'default',
    shutdownGraceTime: options.shutdownGraceMs ?? 10_000,
    ...(options.dataConverter ? { dataConverter: options.dataConverter } : {}),
    ...(options.versioning ? { workerDeploymentOptions: workerDeploymentOptions(options.versioning) } : {}),
  };
  const tracing = tracingInterceptors(options.tracing);
  let main: Worker | undefined;
  let streams: Worker | undefined;
  if (queues !== 'streams') {
    main = await Worker.create({
      ...common,
      taskQueue: options.taskQueue,
      workflowBundle: options.workflowBundle ?? { codePath: await workflowBundlePath() },
      // A workflow whose worker died waits this long before another worker takes its tasks
      // (the SDK's default is 10 s): the dominant cost of recovering from a killed worker.
      stickyQueueScheduleToStartTimeout: '2s',
      ...(options.maxCachedWorkflows === undefined ? {} : { maxCachedWorkflows: options.maxCachedWorkflows }),
      activities: createActivities(options.deps),
      // The stream activity heartbeats its cursor itself; these would otherwise go silent.
      interceptors: {
        ...tracing.client,
        activity: [...tracing.activity, keepAliveInterceptor, jobLogAttributesInterceptor],
      },
      // Where the workflow reports its training metrics (worker/training-metrics.ts) and, through
      // the bundle's OpenTelemetry interceptors, its spans.
      sinks: { ...trainingMetricsSinks(options.metrics), ...tracing.sinks },
      maxConcurrentActivityTaskExecutions: options.maxActivities ?? 20,
    });
  }
  if (queues !== 'main') {
    streams = await Worker.create({
      ...common,
      taskQueue: streamTaskQueue(options.taskQueue),
      // A stream never finishes within a grace time, and the run is blind while it waits. With
      // none, shutdown cancels the stream at once (WORKER_SHUTDOWN): its attempt fails and the
      // retry (1 s) resumes the stream on another worker, instead of after the grace time or,
      // for a worker killed meanwhile, the heartbeat timeout.
      shutdownGraceTime: 0,
      activities: createStreamQueueActivities(options.deps),
      // The activities' client (the stream's `arkor.deliver` updates) carries the trace on.
      interceptors: { ...tracing.client, activity: [...tracing.activity, jobLogAttributesInterceptor] },
      maxConcurrentActivityTaskExecutions: options.maxStreams ?? 200,
      // Heartbeats carry the cursor and bring back cancellation; a short throttle keeps both
      // fresh (continue-as-new waits for the stream to acknowledge its cancellation).
      maxHeartbeatThrottleInterval: '2s',
      defaultHeartbeatThrottleInterval: '2s',
    });
  }
  const workers = [main, streams].filter((worker) => worker !== undefined);
  const stop = (worker: Worker | undefined): void => {
    if (worker?.getState() === 'RUNNING') worker.shutdown();
  };
  let streamsStopped: Promise<unknown> = Promise.resolve();
  let stopping = false;
  let polling: () => void = () => undefined;
  const started = new Promise<void>((resolve) => (polling = resolve));
  const { versioning } = options;
  const readiness: Promise<VersionReadiness | undefined> = versioning
    ? started.then(() =>
        registerVersion({
          service: options.connection.workflowService,
          namespace: common.namespace,
          versioning,
          polled: polledQueues(options.taskQueue, queues),
          runsWorkflows: main !== undefined,
          identity: `${process.pid}@${hostname()}`,
          stopped: () => stopping,
        }),
      )
    : Promise.resolve(undefined);
  return {
    version: versioning ? { deploymentName: versioning.deploymentName, buildId: versioning.buildId } : undefined,
    ready: () => readiness,
    run: async () => {
      const running = workers.map((worker) => worker.run());
      polling();
      if (streams) streamsStopped = running[workers.indexOf(streams)]?.catch(() => undefined) ?? streamsStopped;
      // One worker failing must stop the others, or the process would half-serve its queues.
      try {
        await Promise.all(running);
      } finally {
        stopping = true;
        for (const worker of workers) stop(worker);
      }
    },
    shutdown: () => {
      stopping = true;
      polling();
      stop(streams);
      if (!main || !streams) return stop(main);
      // The main queue stops once the streams have: a stream signals its run until its attempt
      // has ended, and the workflow task such a signal schedules, if it reaches this worker's
      // sticky queue as polling stops, is lost until its 10 s timeout (servers without
      // `worker_poll_complete_on_shutdown` let a poll cancelled at shutdown take a task).
      const mainWorker = main;
      const bound = setTimeout(() => stop(mainWorker), STREAMS_STOP_BOUND_MS);
      void streamsStopped.then(() => {
        clearTimeout(bound);
        stop(mainWorker);
      });
    },
  };
}

/** What the workers of `queues` poll: the version lists each once its first poll reached the server. */
function polledQueues(taskQueue: string, queues: 'all' | 'main' | 'streams'): PolledQueue[] {
  const main: PolledQueue[] = [
    { name: taskQueue, kind: 'workflow' },
    { name: taskQueue, kind: 'activity' },
  ];
  const streams: PolledQueue[] = [{ name: streamTaskQueue(taskQueue), kind: 'activity' }];
  return queues === 'main' ? main : queues === 'streams' ? streams : [...main, ...streams];
}

/** The longest the main queue waits for the stream queue's shutdown (normally tens of ms). */
const STREAMS_STOP_BOUND_MS = 2_000;

/**
 * The sink through which the bundle's OpenTelemetry interceptors send the workflows' spans (the
 * interceptors package's `OpenTelemetrySinks`, written here so that a worker without the optional
 * package still names it).
 */
type WorkflowSpanSinks = InjectedSinks<{ exporter: { export(spans: unknown[]): void } }>;

/**
 * The `exporter` sink of a worker that traces nothing: the workflows' spans are dropped. Replay
 * workers register it too (`Worker.runReplayHistory({ …, sinks: droppedWorkflowSpans })`), or
 * the SDK logs each span as sent to an unregistered sink.
 */
export const droppedWorkflowSpans: WorkflowSpanSinks = {
  exporter: { export: { fn: () => undefined } },
};

/**
 * The activity interceptors and sinks of `tracing`: without it, an `exporter` sink that drops
 * the workflows' spans (the bundle always has the interceptors that send them). With it, the
 * optional interceptors package must be installed (`TracingUnavailableError` otherwise).
 */
function tracingInterceptors(tracing: WorkerTracing | undefined): {
  activity: ActivityInterceptorsFactory[];
  client: { client?: { workflow: WorkflowClientInterceptor[] } };
  sinks: WorkflowSpanSinks;
} {
  if (!tracing) return { activity: [], client: {}, sinks: droppedWorkflowSpans };
  const otel = requireOpenTelemetryInterceptors();
  const options = { tracer: tracing.tracer };
  return {
    client: { client: { workflow: [new otel.OpenTelemetryWorkflowClientInterceptor(options)] } },
    activity: [
      (ctx) => ({
        inbound: new otel.OpenTelemetryActivityInboundInterceptor(ctx, options),
        outbound: new otel.OpenTelemetryActivityOutboundInterceptor(ctx),
      }),
    ],
    sinks: { exporter: otel.makeWorkflowExporter(tracing.spanProcessor, tracing.resource) },
  };
}
