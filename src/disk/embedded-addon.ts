import { createRequire } from 'node:module';
import { sha256Hex } from '../sha256.js';

/** The asset name under which scripts/build-sea.js embeds the addon in a single executable. */
export const EMBEDDED_ADDON_ASSET = 'gptdoctor-native.node';

interface SeaModule {
  isSea(): boolean;
  getRawAsset(key: string): ArrayBuffer;
}

/**
 * In a single executable (scripts/build-sea.js), the addon travels inside the executable as an
 * asset. The OS loads shared libraries only from files, so it is written once to the temporary
 * directory under a name made of its SHA-256, and an existing file of that name is used only when
 * its bytes hash the same (another user could have put something else there).
 * Returns undefined when this is not a single executable, '' when it carries no addon.
 */
export function embeddedAddonFile(): string | undefined {
  const require = createRequire(import.meta.url);
  let sea: SeaModule;
  try {
    sea = require('node:sea') as SeaModule; // Node 20.12+
  } catch {
    return undefined;
  }
  if (!sea.isSea()) return undefined;
  // Loaded here, not at the top: every command imports this module, few open a device.
  const { readFileSync, renameSync, writeFileSync } = require('node:fs') as typeof import('node:fs');
  const { tmpdir } = require('node:os') as typeof import('node:os');
  const { join } = require('node:path') as typeof import('node:path');
  const sha256 = sha256Hex;
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(sea.getRawAsset(EMBEDDED_ADDON_ASSET));
  } catch {
    return ''; // built without --addon
  }
  const digest = sha256(bytes);
  const file = join(tmpdir(), `gptdoctor-native-${digest.slice(0, 32)}.node`);
  let present: Uint8Array | undefined;
  try {
    present = readFileSync(file);
  } catch {
    // not extracted yet
  }
  if (!present || sha256(present) !== digest) {
    const partial = `${file}.${process.pid}.tmp`;
    writeFileSync(partial, bytes, { mode: 0o700 });
    renameSync(partial, file);
  }
  return file;
}
