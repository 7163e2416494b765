#!/usr/bin/env node
// Builds the addon for 64-bit Windows on Linux, with the GNU toolchain (MinGW-w64), for
// `npm run build:sea` and the Wine tests:
//
//   node scripts/build-native-windows.js      # → native/gptdoctor-native.win32-x64-gnu.node
//   node scripts/build-native.js --target win32-x64-gnu   # the same
//
// Needs the Rust target (rustup target add x86_64-pc-windows-gnu) and its linker,
// x86_64-w64-mingw32-gcc (Debian: gcc-mingw-w64-x86-64). No node.exe or import library: on this
// target napi resolves Node-API at load time (dyn-symbols; native/windows-gnu/README.md).
// Releases still use the MSVC build from .github/workflows/native.yml.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
export const RUST_TARGET = 'x86_64-pc-windows-gnu';
export const WINDOWS_GNU_ADDON = join(root, 'native', 'gptdoctor-native.win32-x64-gnu.node');
const LINKER = 'x86_64-w64-mingw32-gcc';

/** Why the toolchain cannot build it, or undefined when it can. */
function missingToolchain() {
  if (spawnSync('cargo', ['--version'], { stdio: 'ignore' }).status !== 0) return 'cargo is not installed (rustup)';
  const installed = spawnSync('rustup', ['target', 'list', '--installed'], { encoding: 'utf8' }).stdout?.split('\n') ?? [];
  if (!installed.includes(RUST_TARGET)) return `the Rust target is missing: rustup target add ${RUST_TARGET}`;
  if (spawnSync(LINKER, ['--version'], { stdio: 'ignore' }).status !== 0) return `${LINKER} is missing: apt-get install gcc-mingw-w64-x86-64`;
  return undefined;
}

/** True when the addon is missing or older than a source it is built from. */
export function windowsAddonIsStale() {
  if (!existsSync(WINDOWS_GNU_ADDON)) return true;
  const built = statSync(WINDOWS_GNU_ADDON).mtimeMs;
  const sources = [
    join(root, 'Cargo.lock'),
    join(root, '.cargo/config.toml'),
    join(root, 'native/Cargo.toml'),
    join(root, 'native/build.rs'),
    ...readdirSync(join(root, 'native/src')).map((f) => join(root, 'native/src', f)),
  ];
  return sources.some((f) => existsSync(f) && statSync(f).mtimeMs > built);
}

/** Builds native/gptdoctor-native.win32-x64-gnu.node; throws with the reason when it cannot. */
export function buildWindowsAddon({ quiet = false } = {}) {
  const missing = missingToolchain();
  if (missing) throw new Error(`cannot build the win32-x64 addon: ${missing}`);
  // `cargo build`, not `napi build`: napi's CLI would also rewrite native/index.js and index.d.ts,
  // which the Linux build owns; the only product needed here is the DLL.
  const result = spawnSync('cargo', ['build', '--release', '-p', 'gptdoctor-native', '--target', RUST_TARGET], {
    cwd: root,
    stdio: quiet ? ['ignore', 'ignore', 'pipe'] : 'inherit',
    encoding: 'utf8',
  });
  if (result.status !== 0) throw new Error(`cargo build --target ${RUST_TARGET} failed${quiet ? `:\n${result.stderr}` : ''}`);
  copyFileSync(join(root, 'target', RUST_TARGET, 'release', 'gptdoctor_native.dll'), WINDOWS_GNU_ADDON);
  return WINDOWS_GNU_ADDON;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  try {
    console.log(`built ${buildWindowsAddon()}`);
  } catch (err) {
    console.error(`build-native-windows: ${err.message}`);
    process.exit(1);
  }
}
