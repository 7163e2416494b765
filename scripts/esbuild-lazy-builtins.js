// An esbuild plugin for scripts/bundle.js and scripts/build-sea.js: Node built-ins that only some
// commands use are loaded when first called, not when the bundle starts. Each costs start-up on
// every run otherwise (Node 20, measured by requiring each in a fresh process): node:crypto ~5 ms,
// node:fs/promises ~1.5 ms, node:readline ~0.8 ms, node:os ~0.4 ms, node:timers/promises ~0.2 ms.
// A recover of a raw image used to load all five, and needs none until its report hashes evidence.
//
// Two shapes, for two kinds of importer:
// - Our own modules (ES modules, named imports): the import resolves to a facade with one
//   forwarding function per function the built-in exports. A named import of anything else (a
//   constant, a default import) is not in the facade, so esbuild stops the build with "No matching
//   export" instead of a value quietly going missing at run time.
// - commander requires node:child_process at load time, for subcommands that are separate
//   executables, which gptdoctor never uses (it pulls in net, dgram and the stream modules, ~5 ms).
//   Inside commander it becomes a proxy that loads the module on first property access.
import { createRequire } from 'node:module';

const DEFERRED = /^node:(crypto|fs\/promises|readline|os|timers\/promises)$/;
const COMMANDER_LAZY = /^(node:)?child_process$/;
const NAMESPACE = 'gptdoctor-lazy';
const requireBuiltin = createRequire(import.meta.url);

/** ES module source forwarding every function of built-in `id`, which it requires on the first call. */
function facade(id) {
  const real = requireBuiltin(id);
  const functions = Object.keys(real).filter((name) => typeof real[name] === 'function' && /^[A-Za-z_$][\w$]*$/.test(name));
  return [
    'let loaded;',
    `const load = () => (loaded ??= require(${JSON.stringify(id)}));`,
    ...functions.map((name) => `export function ${name}(...args) { return load().${name}(...args); }`),
  ].join('\n');
}

export const lazyBuiltins = {
  name: 'gptdoctor-lazy-builtins',
  setup(build) {
    build.onResolve({ filter: DEFERRED }, (args) =>
      // The facade's own require() of the built-in, and anything under node_modules, resolve as usual.
      args.namespace !== NAMESPACE && !/[\\/]node_modules[\\/]/.test(args.importer) && args.kind === 'import-statement'
        ? { path: args.path, namespace: NAMESPACE, pluginData: 'facade' }
        : undefined,
    );
    build.onResolve({ filter: COMMANDER_LAZY }, (args) =>
      /[\\/]node_modules[\\/]commander[\\/]/.test(args.importer) ? { path: 'node:child_process', namespace: NAMESPACE, pluginData: 'proxy' } : undefined,
    );
    build.onLoad({ filter: /.*/, namespace: NAMESPACE }, (args) =>
      args.pluginData === 'facade'
        ? { contents: facade(args.path), loader: 'js' }
        : { contents: `module.exports = new Proxy({}, { get: (_, key) => require(${JSON.stringify(args.path)})[key] });`, loader: 'js' },
    );
  },
};
