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
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
// V8 checks a code cache against its own version and the source's length, not its content, so
// the bundle's first line carries a build id and bin/gptdoctor.js uses a cache only with that id.
const buildId = randomBytes(8).toString('hex');
const { version } = JSON.parse((await import('node:fs')).readFileSync(`${root}package.json`, 'utf8'));

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

// The code cache: V8's compiled form of the functions that start-up and a check use, recorded by
// running one check. bin/gptdoctor.js hands it to V8, which checks that it matches the bundle and
// its own version and ignores it otherwise.
//
// One run, not several: V8 drops the bytecode of a function that has not run for 5 full garbage
// collections (--bytecode-old-age), and the bundle's outer function runs once, first. After a
// check, an inspect and a recover it was gone from the cache, and every start compiled it again:
// about 10 ms, more than the cache saved. A check makes one full collection. (A cache made with
// --no-flush-bytecode is no use either: V8 only takes a cache made under the same flags.)
const { spawnSync } = await import('node:child_process');
const { existsSync, rmSync } = await import('node:fs');
const cache = `${root}dist/bundle/gptdoctor.cjs.cache`;
rmSync(cache, { force: true });
const sample = `${root}test/sample/windows-esp-typed-basic.img.gz`;
// The sample needs repair, so this check exits 1; what matters is that it ran and left a cache.
spawnSync(process.execPath, [`${root}bin/gptdoctor.js`, 'check', '--json', sample], {
  env: { ...process.env, GPTDOCTOR_WRITE_CODE_CACHE: cache, GPTDOCTOR_BUILD_ID: buildId },
  stdio: 'ignore',
});
if (!existsSync(cache)) {
  console.error('bundle: the code cache was not written; gptdoctor will work, but start more slowly');
  process.exitCode = 1;
}
