/**
 * What the run shows outside its status query: its current details in the Web UI and its
 * metrics (contract/metrics.ts). Neither is a command, so neither changes what is replayed:
 * `setCurrentDetails` only sets what the SDK's metadata query answers, and the metrics go to a
 * worker sink that is never called while replaying.
 *
 * Status changes come in bursts (a batch of a thousand log events is a thousand updates), so
 * both are refreshed once per burst: the first change schedules a refresh at the end of the
 * current synchronous stretch of workflow code (a microtask), which reads the status then.
 */
import { proxySinks, setCurrentDetails, workflowInfo } from '@temporalio/workflow';
import type { RunEvent } from '../contract/events.js';
import {
  eventTypeLabel,
  type RunCounter,
  type RunGauge,
  type RunMetricsReport,
  type TrainingMetricsSinks,
} from '../contract/metrics.js';
import { isFinalPhase, type RunStatus } from '../contract/status.js';
import { renderRunDetails } from './run-details.js';

const { arkorMetrics } = proxySinks<TrainingMetricsSinks>();

export class RunTelemetry {
  private refreshing = false;
  /**
   * The status the last refresh saw: counters derived from the status count what changed since.
   * The first refresh only takes it in (a continued run was counted by its predecessor).
   */
  private seen: RunStatus | undefined;
  /** The gauges as last reported (a gauge is reported when its value changes). */
  private readonly gauges = new Map<RunGauge, number>();
  private counters: RunMetricsReport['counters'] = [];
  private histograms: RunMetricsReport['histograms'] = [];

  constructor(
    private readonly model: string,
    private readonly status: () => RunStatus,
  ) {}

  /** The status changed: refresh at the end of this stretch. */
  changed(): void {
    if (this.refreshing) return;
    this.refreshing = true;
    void Promise.resolve().then(() => {
      this.refreshing = false;
      this.refresh();
    });
  }

  /** The run accepted these events from its stream. */
  received(events: readonly RunEvent[]): void {
    this.countEvents('eventsReceived', events);
  }

  /** These events were taken off the queue for their callback. */
  dispatched(events: readonly RunEvent[]): void {
    this.countEvents('eventsDispatched', events);
  }

  private countEvents(metric: RunCounter, events: readonly RunEvent[]): void {
    const byType = new Map<string, number>();
    for (const event of events) {
      const type = eventTypeLabel(event.payload.type);
      byType.set(type, (byType.get(type) ?? 0) + 1);
    }
    for (const [event_type, value] of byType) this.counters.push({ metric, value, labels: { event_type } });
    this.changed();
  }

  private refresh(): void {
    const status = this.status();
    setCurrentDetails(renderRunDetails(status));
    if (this.seen) this.deriveCounters(this.seen, status);
    this.seen = status;
    const { counters, histograms } = this;
    this.counters = [];
    this.histograms = [];
    // What a replay goes through again was reported when it happened (by whichever worker); the
    // gauges are reported again, in full, by the first refresh after it.
    if (workflowInfo().unsafe.isReplaying) return;
    const gauges = this.changedGauges(status);
    if (Object.keys(gauges).length === 0 && counters.length === 0 && histograms.length === 0) return;
    arkorMetrics.report({ model: this.model, gauges, counters, histograms });
  }

  private deriveCounters(before: RunStatus, after: RunStatus): void {
    if (before.jobId === undefined && after.jobId !== undefined)
      this.counters.push({ metric: 'runsStarted', value: 1 });
    if (!isFinalPhase(before.phase) && isFinalPhase(after.phase)) {
      this.counters.push({ metric: 'runsFinished', value: 1, labels: { outcome: after.phase } });
    }
    if (after.checkpoints !== before.checkpoints) {
      const scoredBefore = new Set(before.checkpoints.filter((c) => c.score !== undefined).map((c) => c.step));
      for (const checkpoint of after.checkpoints) {
        if (checkpoint.score === undefined || scoredBefore.has(checkpoint.step)) continue;
        this.histograms.push({ metric: 'checkpointScore', value: checkpoint.score });
      }
    }
  }

  private changedGauges(status: RunStatus): RunMetricsReport['gauges'] {
    const lastScored = status.checkpoints.findLast((checkpoint) => checkpoint.score !== undefined);
    const values: RunMetricsReport['gauges'] = {
      step: status.step,
      ...(status.maxSteps === undefined ? {} : { maxSteps: status.maxSteps }),
      ...(status.latestLoss === null ? {} : { loss: status.latestLoss }),
      ...(status.bestLoss === null ? {} : { bestLoss: status.bestLoss.value }),
      ...(status.latestEvalLoss === null ? {} : { evalLoss: status.latestEvalLoss }),
      ...(status.backlog === undefined ? {} : { backlog: status.backlog.events }),
      ...(lastScored?.score === undefined ? {} : { lastCheckpointScore: lastScored.score }),
      ...(status.finalScore ? { finalScore: status.finalScore.score } : {}),
    };
    const changed: RunMetricsReport['gauges'] = {};
    for (const [gauge, value] of Object.entries(values) as Array<[RunGauge, number]>) {
      if (Object.is(this.gauges.get(gauge), value)) continue;
      this.gauges.set(gauge, value);
      changed[gauge] = value;
    }
    return changed;
  }
}
