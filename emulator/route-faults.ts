/** Injected faults on arbitrary routes (`addRouteFault`), matched by method and exact pathname. */
import type { RouteFault } from './types.js';

interface ArmedFault {
  fault: RouteFault;
  /** Matching requests still affected; `Infinity` when `times` is absent. */
  remaining: number;
}

/** The armed route faults, consumed in the order they were added. */
export class RouteFaults {
  private faults: ArmedFault[] = [];

  add(fault: RouteFault): void {
    this.faults.push({ fault: { ...fault }, remaining: fault.times ?? Number.POSITIVE_INFINITY });
  }

  /** Takes one use of the first fault matching `method` + `pathname` (query string excluded). */
  take(method: string, pathname: string): RouteFault | undefined {
    const armed = this.faults.find(
      (a) => a.remaining > 0 && a.fault.method.toUpperCase() === method.toUpperCase() && a.fault.path === pathname,
    );
    if (!armed) return undefined;
    armed.remaining -= 1;
    if (armed.remaining <= 0) this.faults = this.faults.filter((a) => a !== armed);
    return armed.fault;
  }

  clear(): void {
    this.faults = [];
  }
}
