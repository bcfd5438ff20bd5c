/**
 * Types of `ms` (the duration parser Temporal itself uses): its package ships them but its
 * `exports` map does not point at them, so NodeNext resolution cannot find them.
 */
declare module 'ms' {
  import type { StringValue } from '@temporalio/common';
  export type { StringValue };
  /** Milliseconds of a duration string; NaN when it is not one. */
  export default function ms(value: StringValue): number;
}
