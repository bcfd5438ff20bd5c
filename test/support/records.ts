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
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as CallbackRecord);
}
