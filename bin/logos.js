#!/usr/bin/env node
// Tiny launcher: the CLI is bundled into dist/bundle/logos.js by `npm run build`.
import { main } from '../dist/bundle/logos.js';

main(process.argv).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    process.stderr.write(`logos: unexpected failure: ${err && err.stack ? err.stack : String(err)}\n`);
    process.exitCode = 70;
  },
);
