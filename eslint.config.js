// @ts-check
import { builtinModules } from 'node:module';
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const nodeBuiltins = [...new Set(builtinModules.map((name) => name.replace(/^node:/, '')))];

/** @param {string} message */
function builtinBans(message) {
  return [{ group: ['node:*', ...nodeBuiltins, ...nodeBuiltins.map((name) => `${name}/*`)], message }];
}

/**
 * @param {string[]} files
 * @param {Array<{ group: string[]; message: string; allowTypeImports?: boolean }>} patterns
 */
function restrictImports(files, patterns) {
  return { files, rules: { 'no-restricted-imports': ['error', { patterns }] } };
}

export default tseslint.config(
  { ignores: ['node_modules/', '.data/', 'bench/results/', 'dist/', 'test/package/'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        projectService: { allowDefaultProject: ['eslint.config.js'] },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  // Import directions. The contract is what both sides of every Temporal boundary share, so it
  // imports nothing of theirs; workflow code is replayed in a sandbox and sees only the contract;
  // activities do the I/O and never reach into workflow code. A type-only import of the Arkor
  // client's shapes is erased at build time, so the contract may re-export them.
  restrictImports(
    ['contract/**/*.ts'],
    [
      ...builtinBans('Contract code is bundled into workflows: no Node built-ins.'),
      {
        group: ['**/workflows/*', '**/activities/*', '**/worker/*', '**/service/*', '**/cli/*', '**/emulator/*'],
        message: 'The contract imports nothing from either side of the boundary it describes.',
      },
      {
        group: ['**/arkor/*'],
        allowTypeImports: true,
        message: 'The contract may take only types from the Arkor client.',
      },
      {
        group: ['@temporalio/client', '@temporalio/worker', '@temporalio/activity'],
        message: 'The contract may use only @temporalio/common and @temporalio/workflow message definitions.',
      },
    ],
  ),
  // Workflow code is replayed in a sandbox: it must be deterministic, so it may not reach the
  // clock, the network, the file system or the process. The Temporal bundler would reject most
  // of these late, at worker start; the lint rule rejects them at review time.
  restrictImports(
    ['workflows/**/*.ts'],
    [
      ...builtinBans('Workflow code must not import Node built-ins.'),
      {
        group: [
          '**/activities/*',
          '**/arkor/*',
          '**/emulator/*',
          '**/worker/*',
          '**/service/*',
          '**/cli/*',
          '@temporalio/client',
          '@temporalio/worker',
          '@temporalio/activity',
        ],
        message: 'Workflow code imports only the contract (../contract/*) and @temporalio/workflow.',
      },
    ],
  ),
  restrictImports(
    ['activities/**/*.ts'],
    [
      {
        group: ['**/workflows/*', '**/worker/*', '**/service/*', '**/cli/*', '**/emulator/*', '@temporalio/workflow'],
        message:
          'Activities import the contract, the Arkor client and the user-extension loaders, never workflow code.',
      },
    ],
  ),
  // The test kit (`testing/`) serves the tests, the benchmarks and users' own tests, so it takes
  // nothing from either; the benchmarks take what they share with the tests from the kit.
  restrictImports(
    ['bench/**/*.ts'],
    [{ group: ['**/test/*'], message: 'Benchmarks import shared test pieces from testing/, never from test/.' }],
  ),
  restrictImports(
    ['testing/**/*.ts'],
    [{ group: ['**/test/*', '**/bench/*'], message: 'The test kit imports neither the tests nor the benchmarks.' }],
  ),
  {
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    rules: {
      // node:test's describe/it return promises that the runner itself awaits.
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          allowForKnownSafeCalls: [
            { from: 'package', name: ['describe', 'it', 'test', 'suite', 'before', 'after'], package: 'node:test' },
          ],
        },
      ],
    },
  },
);
