import { createRequire } from 'node:module';

let loaded: typeof import('node:zlib') | undefined;

/**
 * node:zlib, loaded on first use: every command would otherwise pay ~3 ms of start-up for it,
 * while only large CRCs, compressed images and compressed clusters or grains need it.
 */
export function zlib(): typeof import('node:zlib') {
  loaded ??= createRequire(import.meta.url)('node:zlib') as typeof import('node:zlib');
  return loaded;
}

/** node:zlib if something has loaded it already, without loading it. */
export function zlibIfLoaded(): typeof import('node:zlib') | undefined {
  return loaded;
}

