/**
 * A schedule's overlap policies, in a module of their own (no Temporal client) so that the CLI can
 * offer them as choices without loading the client first.
 */

/** What a schedule does when a run is due while the previous one is still going. */
export const OverlapPolicy = {
  Skip: 'skip',
  BufferOne: 'buffer-one',
  BufferAll: 'buffer-all',
  CancelOther: 'cancel-other',
  TerminateOther: 'terminate-other',
  AllowAll: 'allow-all',
} as const;
export type OverlapPolicy = (typeof OverlapPolicy)[keyof typeof OverlapPolicy];

export const OVERLAP_POLICIES: readonly OverlapPolicy[] = Object.values(OverlapPolicy);
