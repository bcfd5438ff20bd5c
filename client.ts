/**
 * The repository's entry to the command line (`npm run client -- <command>`): the same program as
 * `arkor-temporal`, cli/main.ts. See docs/cli.md.
 */
import { main } from './cli/main.js';

await main();
