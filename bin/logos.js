#!/usr/bin/env node
// Tiny launcher: the CLI lives in dist/cli/main.js (built with `npm run build`).
import { main } from '../dist/cli/main.js';

main(process.argv).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    process.stderr.write(`logos: unexpected failure: ${err && err.stack ? err.stack : String(err)}\n`);
    process.exitCode = 70;
  },
);
