/**
 * Flags of the bench scripts: `--name=value`, `--name value` and bare `--flag`. Every script
 * takes `--quick` (a ~10 s smoke size) and `--json` (write `bench/results/<name>.json`;
 * `--json=<file>` writes `bench/results/<file>.json`, to keep a variant beside the default run).
 */

/** A flag that was given but cannot be read as the type the script expects. */
export class BenchFlagError extends Error {
  override readonly name = 'BenchFlagError';
}

export interface BenchArgs {
  quick: boolean;
  json: boolean;
  /** The results file name: `--json=<file>`'s value, else `fallback`. */
  jsonName(fallback: string): string;
  has(name: string): boolean;
  /** A number flag; `fallback` when absent. */
  number(name: string, fallback: number): number;
  /** A comma-separated list of numbers; `fallback` when absent. */
  numbers(name: string, fallback: number[]): number[];
  string(name: string, fallback: string): string;
}

export function parseArgs(argv: string[] = process.argv.slice(2)): BenchArgs {
  const values = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    if (!arg.startsWith('--')) throw new BenchFlagError(`unexpected argument "${arg}"`);
    const eq = arg.indexOf('=');
    if (eq > 0) {
      values.set(arg.slice(2, eq), arg.slice(eq + 1));
      continue;
    }
    const next = argv[i + 1];
    // `--name value` unless the next word is itself a flag (then `--name` is a boolean).
    if (next !== undefined && !next.startsWith('--')) {
      values.set(arg.slice(2), next);
      i++;
    } else {
      values.set(arg.slice(2), 'true');
    }
  }
  const toNumber = (name: string, text: string): number => {
    const value = Number(text);
    if (!Number.isFinite(value)) throw new BenchFlagError(`--${name} must be a number, got "${text}"`);
    return value;
  };
  return {
    quick: values.has('quick'),
    json: values.has('json'),
    jsonName: (fallback) => {
      const value = values.get('json');
      return value === undefined || value === 'true' ? fallback : value;
    },
    has: (name) => values.has(name),
    number(name, fallback) {
      const text = values.get(name);
      return text === undefined ? fallback : toNumber(name, text);
    },
    numbers(name, fallback) {
      const text = values.get(name);
      return text === undefined ? fallback : text.split(',').map((part) => toNumber(name, part.trim()));
    },
    string: (name, fallback) => values.get(name) ?? fallback,
  };
}
