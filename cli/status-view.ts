/** The human-readable form of the `status` query. */
import type { CheckpointInfo, RunStatus } from '../contract/status.js';
import { formatBest, formatMetric, formatSteps, oneLine } from './format.js';
import { sparkline } from './sparkline.js';

/** How many checkpoints the status view lists (the newest); the count covers all of them. */
export const STATUS_CHECKPOINTS_SHOWN = 5;

/** A checkpoint as one short phrase: `step 20 (2 artifacts)`. */
export function formatCheckpoint(checkpoint: CheckpointInfo): string {
  const artifacts = `${checkpoint.artifactCount} artifact${checkpoint.artifactCount === 1 ? '' : 's'}`;
  return `step ${checkpoint.step} (${artifacts})${checkpoint.score === undefined ? '' : `, score ${checkpoint.score.toFixed(3)}`}`;
}

/** A labelled, multi-line view of a run's status (ends with a newline), with its Web UI link when given. */
export function formatStatus(status: RunStatus, links: { webUi?: string | undefined } = {}): string {
  const rows: Array<[string, string]> = [
    ['workflow', `${status.workflowId}${status.runNumber > 1 ? ` (run ${status.runNumber})` : ''}`],
    ['name', `${status.name} (${status.model})`],
    ['phase', status.phase],
    ['job', status.jobId ?? '–'],
    ['step', formatSteps(status.step, status.maxSteps)],
    ['loss', `${formatMetric(status.latestLoss)} (best ${formatBest(status.bestLoss)})`],
    ['eval loss', `${formatMetric(status.latestEvalLoss)} (best ${formatBest(status.bestEvalLoss)})`],
  ];
  const curve = sparkline(status.lossCurve.map(([, loss]) => loss));
  if (curve) rows.push(['loss curve', curve]);
  const shown = status.checkpoints.slice(-STATUS_CHECKPOINTS_SHOWN).map(formatCheckpoint);
  const hidden = status.checkpoints.length - shown.length;
  rows.push([
    'checkpoints',
    status.checkpoints.length === 0
      ? 'none'
      : `${status.checkpoints.length}: ${hidden > 0 ? '…, ' : ''}${shown.join(', ')}`,
  ]);
  if (status.stop)
    rows.push(['stop', `${status.stop.cause} at step ${status.stop.atStep}: ${oneLine(status.stop.reason)}`]);
  if (status.blocked) rows.push(['blocked', `since ${status.blocked.since}: ${oneLine(status.blocked.reason)}`]);
  if (status.error) rows.push(['error', oneLine(status.error)]);
  rows.push(['callback errors', String(status.callbackErrors.length)]);
  for (const error of status.callbackErrors) {
    rows.push(['', `${error.callback} (events ${error.eventIds.join(', ')}): ${oneLine(error.message)}`]);
  }
  rows.push(['events', `${status.eventsReceived} received, ${status.callbacksRun} callbacks run`]);
  if (status.eventsNotDispatched > 0)
    rows.push(['', `${status.eventsNotDispatched} received after the stop, not dispatched`]);
  const backlog = status.backlog;
  if (backlog) {
    const limit = backlog.limit === undefined ? '' : ` of ${backlog.limit}`;
    rows.push([
      'backlog',
      `${backlog.events}${limit} events not yet dispatched${backlog.pausedSince ? `; stream paused since ${backlog.pausedSince}` : ''}`,
    ]);
  }
  rows.push(['cursor', status.cursor ?? '–']);
  rows.push(['started', status.startedAt]);
  if (status.trainingStartedAt) rows.push(['training', `started ${status.trainingStartedAt}`]);
  if (status.finishedAt) rows.push(['finished', status.finishedAt]);
  if (status.labels && Object.keys(status.labels).length > 0) {
    rows.push([
      'labels',
      Object.entries(status.labels)
        .map(([key, value]) => `${key}=${value}`)
        .join(', '),
    ]);
  }
  if (links.webUi) rows.push(['web ui', links.webUi]);
  const width = Math.max(...rows.map(([label]) => label.length));
  return rows.map(([label, value]) => `${label.padEnd(width)}  ${value}`).join('\n') + '\n';
}
