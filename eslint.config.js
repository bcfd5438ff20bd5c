// @ts-check
import { builtinModules } from 'node:module';
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const nodeBuiltins = [...new Set(builtinModules.map((name) => name.replace(/^node:/, '')))];

export default tseslint.config(
  { ignores: ['node_modules/', '.data/', 'bench/results/'] },
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
  {
    // Workflow code is replayed in a sandbox: it must be deterministic, so it may not reach the
    // clock, the network, the file system or the process. The Temporal bundler would reject most
    // of these late, at worker start; the lint rule rejects them at review time.
    files: ['workflows/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: nodeBuiltins.map((name) => ({ name, message: 'Workflow code must not import Node built-ins.' })),
          patterns: [
            { group: ['node:*'], message: 'Workflow code must not import Node built-ins.' },
            {
              group: [
                '**/activities/*',
                '**/arkor/*',
                '**/emulator/*',
                '@temporalio/client',
                '@temporalio/worker',
                '@temporalio/activity',
              ],
              allowTypeImports: true,
              message:
                'Workflow code may import only types from activities, the Arkor client and the Temporal client/worker.',
            },
          ],
        },
      ],
    },
  },
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
