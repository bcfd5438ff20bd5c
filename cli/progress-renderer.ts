/**
 * Draws `watch` progress: redrawn in place on a terminal, one line per change otherwise (CI logs
 * must not fill with carriage returns), or one JSON object per line for `watch --json`. New
 * checkpoints get a line of their own either way.
 */
import type { CheckpointInfo, RunStatus } from '../contract/status.js';
import { formatProgressLine } from './progress.js';
import { StepRateEstimator } from './step-rate.js';
import { formatCheckpoint } from './status-view.js';

/** Where rendered text goes (stdout, or stderr when stdout is kept for JSON). */
export type TextSink = (text: string) => void;

export interface ProgressRenderer {
  /** Shows a status snapshot taken at `nowMs` (a monotonic clock, for the ETA). */
  update(status: RunStatus, nowMs: number): void;
  /** Ends the progress display, leaving the cursor at the start of a fresh line. */
  finish(): void;
}

export interface RendererOptions {
  /** Redraw in place (carriage return + ANSI clear line) instead of one line per change. */
  tty: boolean;
  /** Terminal width: a redrawn line longer than this would wrap and break the redraw. */
  columns?: number;
}

const CLEAR_LINE = '\r\x1b[2K';

export function createProgressRenderer(write: TextSink, options: RendererOptions): ProgressRenderer {
  return options.tty ? new TtyRenderer(write, options.columns) : new LineRenderer(write);
}

/** `watch --json`: one JSON object per line (see `WatchJsonLine`) instead of text. */
export function createJsonLinesRenderer(write: TextSink, clock: () => Date = () => new Date()): ProgressRenderer {
  return new JsonLinesRenderer(write, clock);
}

/**
 * A line of `watch --json` (docs/cli.md): a `progress` line whenever the phase, the step or a loss
 * changes, a `checkpoint` line per new checkpoint, and a last `outcome` line (see `followRun`).
 * Losses that are not finite numbers are `null`.
 */
export type WatchJsonLine =
  | {
      type: 'progress';
      workflowId: string;
      time: string;
      phase: RunStatus['phase'];
      step: number;
      maxSteps: number | null;
      loss: number | null;
      evalLoss: number | null;
      bestLoss: RunStatus['bestLoss'];
      etaSeconds: number | null;
    }
  | { type: 'checkpoint'; workflowId: string; time: string; step: number; artifactCount: number; score: number | null }
  | { type: 'outcome'; workflowId: string; time: string; outcome: string; result: unknown };

/** Tracks what both renderers need: the step rate and which checkpoints were already shown. */
abstract class BaseRenderer implements ProgressRenderer {
  private readonly rate = new StepRateEstimator();
  private readonly shownCheckpoints = new Set<number>();
  private primed = false;

  constructor(protected readonly write: TextSink) {}

  update(status: RunStatus, nowMs: number): void {
    this.rate.observe(status.step, nowMs);
    // A run that scores its checkpoints shows each once its score is in (or once it is over).
    const settled = (checkpoint: RunStatus['checkpoints'][number]): boolean =>
      !status.scoresCheckpoints || checkpoint.score !== undefined || !['queued', 'running'].includes(status.phase);
    const fresh = status.checkpoints.filter(
      (checkpoint) => !this.shownCheckpoints.has(checkpoint.step) && settled(checkpoint),
    );
    for (const checkpoint of fresh) this.shownCheckpoints.add(checkpoint.step);
    this.show(status, fresh, this.eta(status));
    this.primed = true;
  }

  /** Shows the snapshot with its newly settled checkpoints; text by default. */
  protected show(status: RunStatus, fresh: CheckpointInfo[], etaSeconds: number | undefined): void {
    const line = formatProgressLine({ ...status, etaSeconds });
    this.draw(
      fresh.map((checkpoint) => `checkpoint saved: ${formatCheckpoint(checkpoint)}`),
      line,
      changeKey(status),
    );
  }

  private eta(status: RunStatus): number | undefined {
    // Only a running job has a meaningful ETA; a finished one would show a stale estimate.
    return status.phase === 'running' ? this.rate.etaSeconds(status.step, status.maxSteps) : undefined;
  }

  protected get hasDrawn(): boolean {
    return this.primed;
  }

  protected abstract draw(checkpointLines: string[], progressLine: string, key: string): void;
  abstract finish(): void;
}

class TtyRenderer extends BaseRenderer {
  constructor(
    write: TextSink,
    private readonly columns: number | undefined,
  ) {
    super(write);
  }

  protected draw(checkpointLines: string[], progressLine: string): void {
    let text = '';
    for (const line of checkpointLines) text += `${CLEAR_LINE}${line}\n`;
    const fitted = this.columns && this.columns > 1 ? progressLine.slice(0, this.columns - 1) : progressLine;
    this.write(`${text}${CLEAR_LINE}${fitted}`);
  }

  finish(): void {
    if (this.hasDrawn) this.write('\n');
  }
}

class LineRenderer extends BaseRenderer {
  private lastKey: string | undefined;

  protected draw(checkpointLines: string[], progressLine: string, key: string): void {
    for (const line of checkpointLines) this.write(`${line}\n`);
    if (key === this.lastKey) return;
    this.lastKey = key;
    this.write(`${progressLine}\n`);
  }

  finish(): void {
    // Every line already ended with a newline.
  }
}

class JsonLinesRenderer extends BaseRenderer {
  private lastKey: string | undefined;

  constructor(
    write: TextSink,
    private readonly clock: () => Date,
  ) {
    super(write);
  }

  protected override show(status: RunStatus, fresh: CheckpointInfo[], etaSeconds: number | undefined): void {
    const base = { workflowId: status.workflowId, time: this.clock().toISOString() };
    for (const checkpoint of fresh) {
      this.line({
        type: 'checkpoint',
        ...base,
        step: checkpoint.step,
        artifactCount: checkpoint.artifactCount,
        score: checkpoint.score ?? null,
      });
    }
    const key = changeKey(status);
    if (key === this.lastKey) return;
    this.lastKey = key;
    this.line({
      type: 'progress',
      ...base,
      phase: status.phase,
      step: status.step,
      maxSteps: status.maxSteps ?? null,
      loss: finiteOrNull(status.latestLoss),
      evalLoss: finiteOrNull(status.latestEvalLoss),
      bestLoss: status.bestLoss,
      etaSeconds: etaSeconds === undefined ? null : Math.round(etaSeconds * 10) / 10,
    });
  }

  private line(value: WatchJsonLine): void {
    this.write(`${JSON.stringify(value)}\n`);
  }

  protected draw(): void {
    // show() writes JSON instead.
  }

  finish(): void {
    // Every line already ended with a newline.
  }
}

function finiteOrNull(value: number | null | undefined): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

/** What counts as a change worth a new log line: the phase, the step or the loss. */
function changeKey(status: RunStatus): string {
  return `${status.phase}|${status.step}|${status.latestLoss}|${status.latestEvalLoss}`;
}
