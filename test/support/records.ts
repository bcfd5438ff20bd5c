/** Reading what the recording callbacks (recording-callbacks.ts) wrote. */
import { existsSync, readFileSync } from 'node:fs';

export interface CallbackRecord {
  callback: string;
  key: string;
  eventId?: string;
  step?: number;
  loss?: number | null;
  evalLoss?: number | null;
  status?: string;
  error?: string;
  artifacts?: number;
  attempt: number;
  pid: number;
  at: number;
}

export function readRecords(file: string): CallbackRecord[] {
  if (!existsSync(file)) return [];
  const lines = readFileSync(file, 'utf8').split('\n');
  // What follows the last newline is empty, or a line a worker is writing right now.
  lines.pop();
  return lines.filter(Boolean).map((line) => JSON.parse(line) as CallbackRecord);
}
