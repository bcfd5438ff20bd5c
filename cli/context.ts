/** What every command gets: the run service and where to write. */
import type { TrainingService } from '../service/training-service.js';

/** The part of `TrainingService` the CLI uses (a narrow type so tests can pass a fake). */
export type RunService = Pick<TrainingService, 'start' | 'status' | 'stop' | 'cancel' | 'outcome' | 'decide'>;

/** The process streams, abstracted so commands can be run in-process by tests. */
export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** Whether stdout is a terminal (progress is redrawn in place only then). */
  stdoutIsTty: boolean;
  /** Whether stderr is a terminal (used when stdout is reserved for JSON). */
  stderrIsTty: boolean;
  /** Terminal width, when known. */
  columns?: number;
}

export interface CommandContext {
  service: RunService;
  io: CliIo;
}
