import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, symlinkSync, unlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** Wine's 64-bit loader: Debian's wine64 package installs it outside PATH. In CI it must exist. */
export function wineCommand(): string | undefined {
  for (const candidate of ['/usr/lib/wine/wine64', '/usr/bin/wine64', '/usr/bin/wine']) if (existsSync(candidate)) return candidate;
  if (process.env.CI) throw new Error('wine64 is needed to run gptdoctor.exe (apt-get install wine64)');
  console.warn('skipping: wine64 is not installed, so gptdoctor.exe is built and inspected but not run');
  return undefined;
}

/** Wine shows the Unix root as drive Z:. */
export const windowsPath = (p: string): string => `Z:${p.replaceAll('/', '\\')}`;

export interface WineRun {
  status: number | null;
  output: string;
  /** Also carries Wine's own notes. */
  errors: string;
}

const SHIM = new URL('./wine-bcryptprimitives.c', import.meta.url).pathname;

/**
 * A throwaway Wine prefix (its own C: drive, registry and DOS devices) in `dir`, so the tests
 * neither depend on nor change ~/.wine. Wine 8 lacks bcryptprimitives.dll, which Rust's standard
 * library imports (ProcessPrng) and every Windows since 8 has: a stand-in built with MinGW from
 * wine-bcryptprimitives.c goes into the prefix's system32.
 */
export class WinePrefix {
  private constructor(
    readonly wine: string,
    readonly path: string,
    private readonly scratch: string,
  ) {}

  static create(wine: string, dir: string): WinePrefix {
    const prefix = new WinePrefix(wine, join(dir, 'wineprefix'), dir);
    // mscoree/mshtml off: no Mono or Gecko installers on a machine without the internet.
    execFileSync(wine, ['wineboot', '--init'], { env: prefix.env(), stdio: 'ignore', timeout: 120_000 });
    const system32 = join(prefix.path, 'drive_c/windows/system32');
    execFileSync('x86_64-w64-mingw32-gcc', ['-shared', '-O2', '-s', '-o', join(system32, 'bcryptprimitives.dll'), SHIM, '-lbcrypt']);
    return prefix;
  }

  /**
   * TMPDIR is the scratch directory: wineserver keeps its socket directory (wine-XXXXXX) there,
   * which would otherwise stay in /tmp after every run, as the test's directory goes.
   */
  env(): NodeJS.ProcessEnv {
    return { ...process.env, WINEPREFIX: this.path, TMPDIR: this.scratch, WINEDEBUG: '-all', WINEDLLOVERRIDES: 'mscoree,mshtml=', NODE_SKIP_PLATFORM_CHECK: '1', NODE_OPTIONS: '' };
  }

  /** Runs a Windows program. Wine hands Node pipes it cannot open as stdout, so output goes through files. */
  run(exe: string, args: string[], timeout = 120_000): WineRun {
    const outFile = join(this.scratch, 'wine.out');
    const errFile = join(this.scratch, 'wine.err');
    const [out, err] = [openSync(outFile, 'w'), openSync(errFile, 'w')];
    const result = spawnSync(this.wine, [exe, ...args], { stdio: ['ignore', out, err], env: this.env(), cwd: this.scratch, timeout });
    closeSync(out);
    closeSync(err);
    return { status: result.status, output: readFileSync(outFile, 'utf8'), errors: readFileSync(errFile, 'utf8') };
  }

  /**
   * Maps a Unix block device to the raw DOS device \\.\X: (a `dosdevices/x::` link) while `fn`
   * runs, and removes the link afterwards.
   */
  withDosDevice<T>(letter: string, device: string, fn: (windowsDevice: string) => T): T {
    const link = join(this.path, 'dosdevices', `${letter.toLowerCase()}::`);
    symlinkSync(device, link);
    try {
      return fn(`\\\\.\\${letter.toUpperCase()}:`);
    } finally {
      unlinkSync(link);
    }
  }

  /** Stops the prefix's wineserver, so that the directory can go. */
  close(): void {
    const server = join(dirname(this.wine), 'wineserver');
    spawnSync(existsSync(server) ? server : 'wineserver', ['-k'], { env: this.env(), stdio: 'ignore', timeout: 30_000 });
  }
}
