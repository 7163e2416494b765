#!/usr/bin/env node
// Entry point. `npm run build` compiles src/ into dist/ (tsc) and bundles the CLI into one file,
// dist/bundle/gptdoctor.cjs, with a V8 code cache beside it (scripts/bundle.js). Loading one
// file instead of ~60 ES modules, and skipping its compilation through the cache, brings
// start-up close to bare Node's. A cache made by another Node version is rejected by V8 and the
// bundle is simply compiled. A tsc-only build (no bundle) runs from dist/cli/main.js.
//
// This file is CommonJS (bin/package.json): an ES module entry costs Node's ESM loader ~8 ms of
// start-up on every run, and nothing here needs it.
'use strict';
const { readFileSync, writeFileSync } = require('node:fs');
const Module = require('node:module');
const { dirname, join } = require('node:path');
const { pathToFileURL } = require('node:url');
const { Script } = require('node:vm');

const bundle = join(__dirname, '..', 'dist', 'bundle', 'gptdoctor.cjs');

/**
 * The code cache for this very bundle: the cache file starts with the build id that the
 * bundle's first line names ("// gptdoctor build <id>"), then V8's data.
 */
function codeCache(source) {
  const id = /^\/\/ gptdoctor build ([0-9a-f]+)/.exec(source)?.[1];
  let file;
  try {
    file = readFileSync(`${bundle}.cache`);
  } catch {
    return undefined; // no cache: V8 compiles the bundle
  }
  const newline = file.indexOf(10);
  return id && newline > 0 && file.subarray(0, newline).toString('latin1') === id ? file.subarray(newline + 1) : undefined;
}

/** Runs the CommonJS bundle the way require() would, but compiled with its code cache. */
function loadBundle(source) {
  const cachedData = codeCache(source);
  const script = new Script(Module.wrap(source), { filename: bundle, cachedData });
  const module = { exports: {} };
  script.runInThisContext().call(module.exports, module.exports, Module.createRequire(bundle), module, bundle, dirname(bundle));
  return { main: module.exports.main, script };
}

async function run() {
  let source;
  try {
    source = readFileSync(bundle, 'utf8');
  } catch {
    // not bundled
  }
  const { main, script } = source !== undefined ? loadBundle(source) : await import(pathToFileURL(join(__dirname, '..', 'dist', 'cli', 'main.js')).href);
  // scripts/bundle.js sets GPTDOCTOR_WRITE_CODE_CACHE to record the functions that ran, and
  // GPTDOCTOR_CODE_CACHE_RUNS (a JSON array of argument lists) to run several commands first.
  const recording = script !== undefined && Boolean(process.env.GPTDOCTOR_WRITE_CODE_CACHE);
  const runs = recording && process.env.GPTDOCTOR_CODE_CACHE_RUNS ? JSON.parse(process.env.GPTDOCTOR_CODE_CACHE_RUNS) : [process.argv.slice(2)];
  for (const args of runs) process.exitCode = await main([...process.argv.slice(0, 2), ...args]);
  if (recording) {
    const header = Buffer.from(`${process.env.GPTDOCTOR_BUILD_ID}\n`, 'latin1');
    writeFileSync(process.env.GPTDOCTOR_WRITE_CODE_CACHE, Buffer.concat([header, script.createCachedData()]));
  }
}

run();
