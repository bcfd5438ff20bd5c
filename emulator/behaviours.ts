/**
 * Pending job behaviours, by target, waiting for the jobs they will attach to at creation
 * (`nextJob`, `nameContains`, `allJobs`). Behaviours for an existing job id go straight to the
 * job store instead.
 */
import type { JobBehaviour } from './types.js';

/** Shallow merge in which later fields replace earlier ones; arrays are copied, never shared. */
export function mergeBehaviours(...parts: Array<JobBehaviour | undefined>): JobBehaviour {
  const out: JobBehaviour = {};
  for (const part of parts) if (part) Object.assign(out, structuredClone(part));
  return out;
}

/** Behaviours waiting for jobs that do not exist yet. */
export class BehaviourBook {
  private next: JobBehaviour | undefined;
  private all: JobBehaviour | undefined;
  private readonly byName = new Map<string, JobBehaviour>();

  /** `nextJob`: merged into any pending one; consumed by the next created job. */
  setNextJob(behaviour: JobBehaviour): void {
    this.next = mergeBehaviours(this.next, behaviour);
  }

  /** `allJobs`: merged into the standing one. */
  setAllJobs(behaviour: JobBehaviour): void {
    this.all = mergeBehaviours(this.all, behaviour);
  }

  /** `nameContains`: merged into the standing one for that text. */
  setNameContains(text: string, behaviour: JobBehaviour): void {
    this.byName.set(text, mergeBehaviours(this.byName.get(text), behaviour));
  }

  /**
   * The script of a job being created with `name`: `allJobs`, then every matching
   * `nameContains` (in the order they were first set), then `nextJob` (consumed), most specific last.
   */
  forNewJob(name: string): JobBehaviour {
    const matching = [...this.byName.entries()].filter(([text]) => name.includes(text)).map(([, b]) => b);
    const behaviour = mergeBehaviours(this.all, ...matching, this.next);
    this.next = undefined;
    return behaviour;
  }

  /** Forgets every pending behaviour. */
  clear(): void {
    this.next = undefined;
    this.all = undefined;
    this.byName.clear();
  }
}
