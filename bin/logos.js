#!/usr/bin/env node
// Tiny launcher: the CLI is bundled into dist/bundle/logos.cjs by `npm run build` (see load-bundle.js).
'use strict';
const args = process.argv.slice(2);
if (args.length === 1 && (args[0] === '--version' || args[0] === '-V')) {
  // What commander prints for --version, without loading the CLI.
  process.stdout.write(`${require('../package.json').version}\n`);
} else {
  if (args[0] === 'run' || args[1] === 'run') {
    // A local run's sandbox starts now, while the CLI loads, when the last such run left
    // its plan (src/adapters/local/prestart.ts; the CLI takes it only if it is identical).
    try {
      require('../dist/bundle/prestart.cjs').prestartRun(args);
    } catch {
      // not built, or anything else: the CLI starts the sandbox itself
    }
  }
  require('./load-bundle.js')
    .loadBundle()
    .main(process.argv)
    .then(
      (code) => {
        process.exitCode = code;
      },
      (err) => {
        process.stderr.write(`logos: unexpected failure: ${err && err.stack ? err.stack : String(err)}\n`);
        process.exitCode = 70;
      },
    );
}
