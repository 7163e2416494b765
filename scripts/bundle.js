#!/usr/bin/env node
// Bundles the compiled CLI (dist/cli/main.js, from tsc) and its dependencies into one CommonJS
// file, dist/bundle/gptdoctor.cjs, which bin/gptdoctor.js loads. Node 20 resolves, reads and
// links each ES module on its own; one file instead of ~60 modules takes a third off start-up
// (see bench/RESULTS.md). Command modules stay lazy: esbuild turns `await import()` into
// deferred initialisation inside the bundle, so `--version` still runs none of the checkers.
//
// The bundle sits two levels below the package root, like dist/cli/main.js, so the relative
// paths resolved from import.meta.url (package.json, native/index.js) stay the same.
import { build } from 'esbuild';
import { lazyBuiltins } from './esbuild-lazy-builtins.js';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
// V8 checks a code cache against its own version and the source's length, not its content, so
// the bundle's first line carries a build id and bin/gptdoctor.js uses a cache only with that id.
const buildId = randomBytes(8).toString('hex');
const { version } = JSON.parse(readFileSync(`${root}package.json`, 'utf8'));

await build({
  entryPoints: [`${root}dist/cli/main.js`],
  outfile: `${root}dist/bundle/gptdoctor.cjs`,
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  // The native addon's loader picks a per-platform .node file at run time: keep it outside.
  external: ['*.node'],
  // import() of Node built-ins becomes require(): the bundle runs in a vm.Script (for its code
  // cache), where a real import() has no loader.
  supported: { 'dynamic-import': false },
  define: { 'import.meta.url': '__bundleUrl', __GPTDOCTOR_VERSION__: JSON.stringify(version) },
  banner: { js: `// gptdoctor build ${buildId}\nconst __bundleUrl = require('node:url').pathToFileURL(__filename).href;` },
  plugins: [lazyBuiltins],
  logLevel: 'warning',
});

// The bundle must be ASCII. esbuild escapes every other character in strings, templates and
// regular expressions (its default charset), but copies the comments it keeps (JSDoc on class
// members) as they are, and one "§" or "—" there makes V8 hold the whole 850 KB source as a
// two-byte string: reading it as UTF-8 and compiling it cost ~2 ms more at every start. Outside
// strings only comments can hold such characters, so replacing them changes no behaviour.
const bundleFile = `${root}dist/bundle/gptdoctor.cjs`;
writeFileSync(bundleFile, readFileSync(bundleFile, 'utf8').replace(/[^\x00-\x7f]/gu, '?'));

// The code cache: V8's compiled form of the functions that start-up, a check and a recover use,
// recorded by running a check and then a recover of the sample in one process (bin/gptdoctor.js,
// GPTDOCTOR_CODE_CACHE_RUNS). bin/gptdoctor.js hands it to V8, which checks that it matches the
// bundle and its own version and ignores it otherwise. A function missing from the cache is
// compiled when first called: recover's pass, candidates and report cost ~4 ms that way.
//
// Few runs, each small: V8 drops the bytecode of a function that has not run for 5 full garbage
// collections (--bytecode-old-age), and the bundle's outer function runs once, first. After a
// check, an inspect and a recover of larger images it was gone from the cache, and every start
// compiled it again: about 10 ms, more than the cache saved. The check and the recover of the
// sample make two full collections between them. (A cache made with --no-flush-bytecode is no
// use either: V8 only takes a cache made under the same flags.)
const cache = `${root}dist/bundle/gptdoctor.cjs.cache`;
rmSync(cache, { force: true });
const sample = `${root}test/sample/windows-esp-typed-basic.img.gz`;
// The sample needs repair, so the check exits 1; what matters is that both ran and left a cache.
const runs = [['check', '--json', sample], ['recover', '--json', sample]];
spawnSync(process.execPath, [`${root}bin/gptdoctor.js`], {
  env: { ...process.env, GPTDOCTOR_WRITE_CODE_CACHE: cache, GPTDOCTOR_BUILD_ID: buildId, GPTDOCTOR_CODE_CACHE_RUNS: JSON.stringify(runs) },
  stdio: 'ignore',
});
if (!existsSync(cache)) {
  console.error('bundle: the code cache was not written; gptdoctor will work, but start more slowly');
  process.exitCode = 1;
}
