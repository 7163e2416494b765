#!/usr/bin/env node
// Builds the napi-rs addon in native/ when Rust is installed (run by `npm ci` through `prepare`,
// and by `npm run build:native`). Without cargo, image commands still work and device paths
// say how to get the addon; with --required (npm run build:native) a missing cargo is an error.
// `--target win32-x64-gnu` cross-builds the Windows addon instead (scripts/build-native-windows.js).
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const targetAt = process.argv.indexOf('--target');
if (targetAt !== -1) {
  const target = process.argv[targetAt + 1];
  if (target !== 'win32-x64-gnu') {
    console.error(`build-native: unknown --target ${target}: only win32-x64-gnu is cross-built here (other platforms build on their own machines)`);
    process.exit(1);
  }
  const { buildWindowsAddon } = await import('./build-native-windows.js');
  try {
    console.log(`built ${buildWindowsAddon()}`);
    process.exit(0);
  } catch (err) {
    console.error(`build-native: ${err.message}`);
    process.exit(1);
  }
}

const native = fileURLToPath(new URL('../native/', import.meta.url));
const required = process.argv.includes('--required');
if (spawnSync('cargo', ['--version'], { stdio: 'ignore' }).status !== 0) {
  const message = 'gptdoctor: cargo not found; skipping the native addon (raw devices need it; images do not).';
  if (required) {
    console.error(message);
    process.exit(1);
  }
  console.warn(message);
  process.exit(0);
}
const napi = fileURLToPath(new URL('../node_modules/@napi-rs/cli/dist/cli.js', import.meta.url));
const result = spawnSync(process.execPath, [napi, 'build', '--platform', '--release'], { cwd: native, stdio: 'inherit' });
process.exit(result.status ?? 1);
