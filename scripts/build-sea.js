#!/usr/bin/env node
// Builds gptdoctor as one executable file (a Node "single executable application", SEA) with the
// native addon inside, for WinPE and other places where installing Node and npm is not an option.
//
//   node scripts/build-sea.js                       # win32-x64: dist-sea/gptdoctor-win32-x64.exe, with
//                                                   # the MinGW addon (built here when missing)
//   node scripts/build-sea.js --target host         # this machine's platform, from this Node
//   node scripts/build-sea.js --addon path/to/gptdoctor-native.win32-x64-msvc.node
//
// Steps (https://nodejs.org/api/single-executable-applications.html):
//  1. esbuild bundles the compiled CLI (dist/, from `npm run build`) into one CommonJS script; a
//     SEA's main script can require() only Node's built-in modules.
//  2. `node --experimental-sea-config` turns it, with the addon as an asset, into a blob. The blob
//     must be made by the same Node version as the executable it goes into.
//  3. The Node executable: for Windows, node.exe from the registry package node-win-<arch> of this
//     Node's version (cached in .cache/sea/); for --target host, this very Node.
//  4. postject injects the blob as the resource NODE_SEA_BLOB and flips the SEA fuse.
// The addon is written to the temporary directory on first use (src/disk/embedded-addon.ts).
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = fileURLToPath(new URL('..', import.meta.url));
const FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';
const ADDON_ASSET = 'gptdoctor-native.node'; // src/disk/embedded-addon.ts reads it by this name
const WINDOWS_TARGETS = { 'win32-x64': 'x86_64-pc-windows-msvc', 'win32-arm64': 'aarch64-pc-windows-msvc' };

function fail(message) {
  console.error(`build-sea: ${message}`);
  process.exit(1);
}

const usage = `usage: node scripts/build-sea.js [--target win32-x64|win32-arm64|host] [--addon FILE] [--no-addon] [--node FILE] [--out FILE]
  --target   the platform of the executable (default win32-x64; host = this machine, from this Node)
  --addon    the addon built for that platform (default: native/gptdoctor-native.<platform>-*.node;
             for win32-x64 the -msvc one if present, else -gnu, cross-built here with MinGW if missing)
  --no-addon build without the addon: images work, raw devices say the executable lacks it
  --node     the Node executable to inject into (default: downloaded, or this Node for host)
  --out      where to write the executable (default: dist-sea/gptdoctor-<target>[.exe])`;

let args;
try {
  args = parseArgs({
    options: {
      target: { type: 'string', default: 'win32-x64' },
      addon: { type: 'string' },
      'no-addon': { type: 'boolean', default: false },
      node: { type: 'string' },
      out: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  }).values;
} catch (err) {
  fail(`${err.message}\n${usage}`);
}
if (args.help) {
  console.log(usage);
  process.exit(0);
}

const host = `${process.platform}-${process.arch}`;
const target = args.target === 'host' ? host : args.target;
const isWindows = target.startsWith('win32-');
if (target !== host && !WINDOWS_TARGETS[target]) fail(`unknown target "${args.target}": use win32-x64, win32-arm64 or host`);
const [seaMajor, seaMinor] = process.versions.node.split('.').map(Number);
if (seaMajor < 20 || (seaMajor === 20 && seaMinor < 12)) fail(`Node ${process.version} cannot build a SEA with assets: use Node 20.12 or later`);
if (!existsSync(join(root, 'dist/cli/main.js'))) fail('dist/ is missing: run `npm run build` first');

const work = join(root, '.cache/sea');
mkdirSync(work, { recursive: true });
const out = args.out ?? join(root, 'dist-sea', `gptdoctor-${target}${isWindows ? '.exe' : ''}`);
mkdirSync(join(out, '..'), { recursive: true });

// 1. One CommonJS script. import.meta.url has no file to point at inside the executable: the
// version is defined in, and the addon comes from the asset instead of native/.
const { build } = await import('esbuild');
const { lazyBuiltins } = await import('./esbuild-lazy-builtins.js');
const version = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version;
const script = join(work, 'gptdoctor-sea.cjs');
await build({
  stdin: {
    contents: "import { main } from './dist/cli/main.js';\nmain(process.argv).then((code) => { process.exitCode = code; });\n",
    resolveDir: root,
    sourcefile: 'sea-entry.js',
  },
  outfile: script,
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  external: ['*.node'],
  supported: { 'dynamic-import': false }, // a SEA's main script has no module loader for import()
  define: { 'import.meta.url': '__seaUrl', __GPTDOCTOR_VERSION__: JSON.stringify(version) },
  banner: { js: "const __seaUrl = require('node:url').pathToFileURL(process.execPath).href;" },
  plugins: [lazyBuiltins],
  logLevel: 'warning',
});

// 2. The addon for the target, and the blob.
// For win32-x64: the MSVC build when there is one (the release workflow's, static CRT), else the
// MinGW one, which this script builds (or rebuilds, when a Rust source is newer) with
// scripts/build-native-windows.js.
async function defaultAddon() {
  const prefix = `gptdoctor-native.${target}`;
  const found = readdirSync(join(root, 'native')).filter((f) => f.startsWith(prefix) && f.endsWith('.node'));
  const msvc = found.find((f) => f.endsWith('-msvc.node'));
  if (msvc) return join(root, 'native', msvc);
  if (target === 'win32-x64') {
    const { buildWindowsAddon, windowsAddonIsStale, WINDOWS_GNU_ADDON } = await import('./build-native-windows.js');
    if (!windowsAddonIsStale()) return WINDOWS_GNU_ADDON;
    try {
      console.log('building the win32-x64 addon with MinGW (scripts/build-native-windows.js)');
      return buildWindowsAddon({ quiet: true });
    } catch (err) {
      fail(`${err.message}\npass an addon with --addon FILE, or build without raw-device support with --no-addon`);
    }
  }
  return found.length ? join(root, 'native', found.sort()[0]) : undefined;
}
const addon = args['no-addon'] ? undefined : (args.addon ?? (await defaultAddon()));
if (!args['no-addon'] && !addon) {
  fail(
    `no addon for ${target} in native/: build it on that platform with \`npm run build:native\`` +
      (isWindows ? ` (or cross-build: napi build --platform --release --target ${WINDOWS_TARGETS[target]})` : '') +
      ', pass it with --addon FILE, or build without raw-device support with --no-addon',
  );
}
if (addon && !existsSync(addon)) fail(`addon ${addon} does not exist`);
if (addon) checkAddonPlatform(addon);

const blob = join(work, `gptdoctor-${target}.blob`);
const seaConfig = join(work, `sea-config-${target}.json`);
writeFileSync(
  seaConfig,
  JSON.stringify(
    {
      main: script,
      output: blob,
      disableExperimentalSEAWarning: true,
      useSnapshot: false,
      // V8's code cache is specific to the platform that made it.
      useCodeCache: target === host,
      assets: addon ? { [ADDON_ASSET]: addon } : {},
    },
    null,
    2,
  ),
);
run(process.execPath, ['--experimental-sea-config', seaConfig], 'making the SEA blob');

// 3. The Node executable to inject into.
const nodeExe = args.node ?? (target === host ? process.execPath : windowsNode(target));
const nodeBytes = readFileSync(nodeExe);
if (!nodeBytes.includes(`${FUSE}:0`)) fail(`${nodeExe} has no unflipped SEA fuse: it is not an official Node 20.12+ build, or already a SEA`);
copyFileSync(nodeExe, out);
chmodSync(out, 0o755);

// 4. Inject.
const { inject } = (await import('postject')).default;
await inject(out, 'NODE_SEA_BLOB', readFileSync(blob), {
  sentinelFuse: FUSE,
  machoSegmentName: 'NODE_SEA', // macOS hosts
  overwrite: true,
});

const bytes = readFileSync(out);
console.log(`built ${relative(process.cwd(), out) || out}`);
console.log(`  target:  ${target} (Node ${process.version}${args.node ? `, ${args.node}` : ''})`);
console.log(`  size:    ${(bytes.length / 1048576).toFixed(1)} MiB`);
console.log(`  sha256:  ${createHash('sha256').update(bytes).digest('hex')}`);
console.log(`  addon:   ${addon ? relative(root, addon) : 'none (raw devices unavailable)'}`);
if (isWindows) console.log('  note:    injecting the blob invalidated node.exe\'s Authenticode signature; sign the result if your WinPE policy requires it');

function run(command, argv, what) {
  const result = spawnSync(command, argv, { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8', shell: process.platform === 'win32' && command === 'npm' });
  if (result.status !== 0) fail(`${what} failed: ${(result.stderr || result.stdout || result.error?.message || '').trim()}`);
  return result.stdout;
}

/** node.exe of this Node's version from the registry package node-win-<arch>, cached. */
function windowsNode(windowsTarget) {
  const pkg = `node-win-${windowsTarget.slice('win32-'.length)}`;
  const dir = join(work, `${pkg}-${process.versions.node}`);
  const exe = join(dir, 'package/bin/node.exe');
  if (existsSync(exe)) return exe;
  mkdirSync(dir, { recursive: true });
  const tarball = run('npm', ['pack', `${pkg}@${process.versions.node}`, '--pack-destination', dir, '--silent'], `downloading ${pkg}@${process.versions.node}`).trim().split('\n').pop();
  run('tar', ['-xzf', join(dir, tarball), '-C', dir, 'package/bin/node.exe'], `unpacking ${tarball}`);
  rmSync(join(dir, tarball));
  if (!existsSync(exe) || statSync(exe).size === 0) fail(`${pkg} did not contain bin/node.exe`);
  return exe;
}

/** Refuses an addon built for another platform than the executable (PE vs ELF vs Mach-O, and CPU). */
function checkAddonPlatform(file) {
  const head = readFileSync(file).subarray(0, 4096);
  const kind = head[0] === 0x4d && head[1] === 0x5a ? 'win32' : head.readUInt32BE(0) === 0x7f454c46 ? 'linux' : [0xcffaedfe, 0xcafebabe].includes(head.readUInt32BE(0)) ? 'darwin' : 'unknown';
  if (kind !== target.split('-')[0]) fail(`${file} is not a ${target} library (it looks like ${kind})`);
  if (kind === 'win32') {
    const pe = head.readUInt32LE(0x3c);
    const machine = head.readUInt16LE(pe + 4);
    const wanted = target === 'win32-x64' ? 0x8664 : 0xaa64;
    if (machine !== wanted) fail(`${file} is built for PE machine 0x${machine.toString(16)}, not ${target}`);
  }
}
