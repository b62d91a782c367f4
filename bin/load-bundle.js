// Loads the CLI bundle (dist/bundle/logos.cjs, made by `npm run build`) with the V8 code
// cache built beside it (logos.cjs.cache): Node 20 then skips parsing and compiling the
// CLI's code at every start, which was most of a short command's time. A cache made by
// another Node version (or with other V8 flags) is rejected by V8 and the code is compiled
// as usual; nothing is written at run time. scripts/code-cache.mjs makes the cache with
// the same two functions, so the compiled source is the same text. The launcher is
// CommonJS (bin/package.json): an ES module entry costs Node ~8 ms more to start.
'use strict';
const { readFileSync } = require('node:fs');
const { createRequire } = require('node:module');
const { dirname, join } = require('node:path');
const vm = require('node:vm');

const BUNDLE = join(__dirname, '..', 'dist', 'bundle', 'logos.cjs');
const CODE_CACHE = `${BUNDLE}.cache`;

/** The bundle as one function of CommonJS' module variables plus `__logosImport` (see scripts/build-cli.mjs). */
function compileBundle(file, cachedData) {
  // The bundle is ASCII (the build checks): read as latin1 it is the same text, three times faster than UTF-8.
  const source = `(function (exports, require, module, __filename, __dirname, __logosImport) {${readFileSync(file, 'latin1')}\n})`;
  return new vm.Script(source, { filename: file, ...(cachedData ? { cachedData } : {}) });
}

/** Run the bundle's module code; returns its exports. ES modules (the dashboard) load through `__logosImport`. */
function runBundle(script, file) {
  const module = { exports: {} };
  const importEsm = (url) => import(url);
  script.runInThisContext().call(module.exports, module.exports, createRequire(file), module, file, dirname(file), importEsm);
  return module.exports;
}

function loadBundle() {
  let cachedData;
  try {
    cachedData = readFileSync(CODE_CACHE);
  } catch {
    // no cache: compile as usual
  }
  return runBundle(compileBundle(BUNDLE, cachedData), BUNDLE);
}

module.exports = { BUNDLE, CODE_CACHE, compileBundle, runBundle, loadBundle };
