/** Samples a process's resident memory and CPU time from /proc (Linux only). */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** Clock ticks per second of /proc/<pid>/stat times. */
const ticksPerSecond = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

export interface ProcSample {
  at: number;
  rssBytes: number;
  /** utime + stime, in seconds. */
  cpuSeconds: number;
}

export function sampleProcess(pid: number): ProcSample | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const rssKb = Number(/^VmRSS:\s+(\d+)\s+kB/m.exec(status)?.[1] ?? Number.NaN);
    // The command name (field 2) may hold spaces; fields after its closing parenthesis are fixed.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime and stime are fields 14 and 15 of stat, i.e. 12 and 13 after the name.
    const cpuTicks = Number(fields[11]) + Number(fields[12]);
    return { at: Date.now(), rssBytes: rssKb * 1024, cpuSeconds: cpuTicks / ticksPerSecond };
  } catch {
    return undefined;
  }
}

export interface ProcUsage {
  peakRssBytes: number;
  /** CPU time over wall time, in percent of one core. */
  meanCpuPercent: number;
  samples: number;
}

/** Samples `pid` every `intervalMs` until `stop()`; `stop` returns the summary. */
export function startSampler(pid: number, intervalMs = 500): { stop(): ProcUsage } {
  const samples: ProcSample[] = [];
  const take = (): void => {
    const sample = sampleProcess(pid);
    if (sample) samples.push(sample);
  };
  take();
  const timer = setInterval(take, intervalMs);
  return {
    stop() {
      clearInterval(timer);
      take();
      const first = samples[0];
      const last = samples.at(-1);
      const wall = first && last ? (last.at - first.at) / 1000 : 0;
      return {
        peakRssBytes: Math.max(0, ...samples.map((s) => s.rssBytes)),
        meanCpuPercent: first && last && wall > 0 ? ((last.cpuSeconds - first.cpuSeconds) / wall) * 100 : Number.NaN,
        samples: samples.length,
      };
    },
  };
}
