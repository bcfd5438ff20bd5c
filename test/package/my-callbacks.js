// The consumer's callbacks module for the package check: plain JavaScript from an installed
// package, recording each call so the check can assert exactly what ran.
import { appendFileSync } from 'node:fs';
import { defineCallbacks } from 'arkor-temporal/callbacks';

const record = (line) => appendFileSync(process.env.CALLBACK_LOG, `${line}\n`);

export default defineCallbacks({
  onStarted: ({ job }) => record(`started ${job.id}`),
  onCheckpoint: ({ step }) => record(`checkpoint ${step}`),
  onCompleted: ({ job }) => record(`completed ${job.id}`),
  onFailed: ({ error }) => record(`failed ${error}`),
});
