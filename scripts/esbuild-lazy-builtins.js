// An esbuild plugin for scripts/bundle.js and scripts/build-sea.js: commander requires
// node:child_process at load time, for subcommands that are separate executables, which
// gptdoctor never uses. Loading it (with net, dgram and the stream modules it pulls in) costs
// about 5 ms of every start. Inside commander it becomes a proxy that loads the module on first use.
const LAZY = /^(node:)?child_process$/;

export const lazyBuiltins = {
  name: 'gptdoctor-lazy-builtins',
  setup(build) {
    build.onResolve({ filter: LAZY }, (args) =>
      /[\\/]node_modules[\\/]commander[\\/]/.test(args.importer) ? { path: 'child_process', namespace: 'gptdoctor-lazy' } : undefined,
    );
    build.onLoad({ filter: /.*/, namespace: 'gptdoctor-lazy' }, (args) => ({
      contents: `module.exports = new Proxy({}, { get: (_, key) => require('node:${args.path}')[key] });`,
      loader: 'js',
    }));
  },
};
