// Makes the V8 code cache of the CLI bundle (dist/bundle/logos.cjs.cache), run by
// scripts/build-cli.mjs in a process of its own. The bundle's module code runs once here
// (nothing else: no command), so what every command starts with is compiled and cached.
import { writeFileSync } from 'node:fs';
import { BUNDLE, CODE_CACHE, compileBundle, runBundle } from '../bin/load-bundle.js';

const script = compileBundle(BUNDLE);
runBundle(script, BUNDLE);
writeFileSync(CODE_CACHE, script.createCachedData());
