// Lint: typescript-eslint's recommended rules plus the layer boundaries described in
// README.md ("Development"): who may import what is checked here, and again by
// test/unit/layers.test.ts.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const restrict = (patterns) => ({
  'no-restricted-imports': ['error', { patterns }],
});

const EXECA = { group: ['execa'], message: 'Only src/adapters/exec may import execa (use the runner).' };
const INK = { group: ['ink', 'ink/*', 'react', 'react/*', 'ink-testing-library'], message: 'ink/react belong to src/tui only.' };
const COMMANDER = { group: ['commander'], message: 'Only src/cli parses argv (commander).' };
const PINO = { group: ['pino'], message: 'Only src/log writes the log (pino); take a Logger from the context.' };
const CONF = { group: ['conf'], message: 'Only src/store reads and writes config (conf).' };
const UP_CLI = { group: ['**/cli/**', '../cli/*'], message: 'Lower layers never import the CLI.' };
const UP_TUI = { group: ['**/tui/**'], message: 'Only the CLI loads the TUI.' };
const UP_DAEMON = { group: ['**/daemon/**'], message: 'Only the CLI starts the daemon.' };
const ADAPTERS = { group: ['**/adapters/**'], message: 'core depends on interfaces; adapters are wired in by cli/daemon.' };
const STORE = { group: ['**/store/**'], message: 'core depends on interfaces (core/ports.ts); store is wired in by cli/daemon.' };
const LOG = { group: ['**/log/**'], message: 'core takes a Logger from its context.' };
const UP_APP = { group: ['**/app/**'], message: 'The application layer is above core, adapters and store; only cli, daemon and tui call it.' };

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', 'test/fakes/bin/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'error',
      'no-control-regex': 'off',
      // TypeScript checks names; the .mjs fakes run on Node where the globals exist.
      'no-undef': 'off',
    },
  },
  // The launcher is CommonJS (bin/package.json): a CommonJS entry starts faster than an ES module.
  { files: ['bin/**'], rules: { '@typescript-eslint/no-require-imports': 'off' } },
  { files: ['src/core/**'], rules: restrict([EXECA, INK, COMMANDER, PINO, CONF, UP_CLI, UP_TUI, UP_DAEMON, UP_APP, ADAPTERS, STORE, LOG]) },
  { files: ['src/adapters/**'], ignores: ['src/adapters/exec/**'], rules: restrict([EXECA, INK, COMMANDER, PINO, CONF, UP_CLI, UP_TUI, UP_DAEMON, UP_APP, STORE, LOG]) },
  { files: ['src/adapters/exec/**'], rules: restrict([INK, COMMANDER, PINO, CONF, UP_CLI, UP_TUI, UP_DAEMON, UP_APP, STORE, LOG]) },
  { files: ['src/store/**'], rules: restrict([EXECA, INK, COMMANDER, PINO, UP_CLI, UP_TUI, UP_DAEMON, UP_APP, ADAPTERS, LOG]) },
  { files: ['src/log/**'], rules: restrict([EXECA, INK, COMMANDER, CONF, UP_CLI, UP_TUI, UP_DAEMON, UP_APP, ADAPTERS, STORE]) },
  { files: ['src/app/**'], rules: restrict([EXECA, INK, COMMANDER, PINO, CONF, UP_CLI, UP_TUI, UP_DAEMON]) },
  { files: ['src/daemon/**'], rules: restrict([EXECA, INK, COMMANDER, UP_CLI, UP_TUI]) },
  { files: ['src/tui/**'], rules: restrict([EXECA, COMMANDER, PINO, CONF, UP_CLI, UP_DAEMON, ADAPTERS, STORE]) },
  { files: ['src/cli/**'], rules: restrict([EXECA, INK, PINO, CONF]) },
  {
    files: ['src/worker/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { regex: '^(?!node:|\\./[^/]+$|\\.\\./core/protocol\\.js$)', message: 'The worker is standalone: node: builtins, its own files and ../core/protocol.js only.' },
          ],
        },
      ],
    },
  },
);
