import { spawnSync } from 'node:child_process';
import { closeSync, openSync, readdirSync, readFileSync, writeFileSync, writeSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkDisk } from '../src/api.js';
import { openDisk } from '../src/disk/open.js';
import { gptdoctor } from './helpers/cli.js';
import { fixtureFile } from './helpers/images.js';
import { haveTools, run, tempDir } from './helpers/tools.js';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;
const BIN = new URL('../bin/gptdoctor.js', import.meta.url).pathname;

/** Compressors, run as their own tools: the bytes gptdoctor reads are never made by gptdoctor. */
const COMPRESSORS: Record<string, (file: string) => string> = {
  gzip: (file) => (run('gzip', ['-k', '-1', file]), `${file}.gz`),
  xz: (file) => (run('xz', ['-k', '-0', '-T1', file]), `${file}.xz`),
  zstd: (file) => (run('zstd', ['-q', '-k', file]), `${file}.zst`),
};

const PEAK_MEMORY = new URL('./helpers/peak-memory.mjs', import.meta.url).pathname;

/** Runs the CLI and reports its peak resident memory (see helpers/peak-memory.mjs). */
function cliWithPeakMemory(args: string[]): { status: number; stdout: string; stderr: string; maxRssBytes: number } {
  const r = spawnSync(process.execPath, [PEAK_MEMORY, ...args], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' }, maxBuffer: 64 * MiB });
  const rss = /MAXRSS (\d+)/.exec(r.stderr);
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr.replace(/\nMAXRSS \d+\n/, ''), maxRssBytes: rss ? Number(rss[1]) * 1024 : Infinity };
}

async function readAll(path: string): Promise<{ format: string; bytes: Buffer; compression: unknown }> {
  const source = await openDisk(path);
  try {
    return { format: source.format, bytes: Buffer.from(await source.read(0, source.size)), compression: source.containerInfo?.compression };
  } finally {
    await source.close();
  }
}

describe.runIf(haveTools('gzip', 'xz', 'zstd', 'qemu-img'))('containers inside compression, by composition', () => {
  const dir = tempDir();
  afterAll(() => dir.cleanup());
  const raw = fixtureFile('windows-esp-basic', dir.path);
  const rawBytes = readFileSync(raw);
  const containers: Array<[string, string, string[]]> = [
    ['raw', 'raw', []],
    ['vhd-fixed', 'vhd', ['-O', 'vpc', '-o', 'subformat=fixed,force_size=on']],
    ['vhd-dynamic', 'vhd', ['-O', 'vpc', '-o', 'force_size=on']],
    ['vhdx', 'vhdx', ['-O', 'vhdx']],
    ['qcow2', 'qcow2', ['-O', 'qcow2']],
    ['vmdk', 'vmdk', ['-O', 'vmdk', '-o', 'subformat=streamOptimized']],
  ];

  for (const [name, format, convert] of containers) {
    it(`a ${name} image compressed with gzip, xz and zstd reads through its own reader, byte for byte`, async () => {
      const image = join(dir.path, `${name}.disk`);
      if (convert.length) run('qemu-img', ['convert', '-f', 'raw', ...convert, raw, image]);
      else writeFileSync(image, rawBytes);
      const expected = (await checkDisk(image)).findings.map((f) => f.code);
      for (const [compression, compress] of Object.entries(COMPRESSORS)) {
        const packed = compress(image);
        const seen = await readAll(packed);
        expect([seen.format, seen.compression], packed).toEqual([format, compression]);
        expect(seen.bytes.equals(rawBytes.subarray(0, seen.bytes.length)), packed).toBe(true);
        expect(seen.bytes.length).toBeGreaterThanOrEqual(rawBytes.length - 4 * MiB); // a VHD may round down to CHS
        expect((await checkDisk(packed)).findings.map((f) => f.code), packed).toEqual(expected);
      }
    });
  }

  it('writes are refused with the --output way out; --output writes a repaired raw copy from a .vhdx.xz', () => {
    const vhdx = join(dir.path, 'w.vhdx');
    run('qemu-img', ['convert', '-f', 'raw', '-O', 'vhdx', raw, vhdx]);
    const packed = COMPRESSORS.xz!(vhdx);
    const refused = gptdoctor(['set', packed, '1', '--name', 'EFI', '--yes']);
    expect(refused.status).toBe(2);
    expect(refused.stderr).toMatch(/it is xz-compressed.*add --output \S*w-fixed\.img/);
    const out = join(dir.path, 'w-fixed.img');
    const copied = gptdoctor(['set', packed, '1', '--name', 'EFI', '--yes', '--output', out, '--undo-file', join(dir.path, 'w.undo')]);
    expect(copied.status, copied.stderr).toBe(0);
    expect(run('sgdisk', ['-i', '1', out])).toMatch(/Partition name: 'EFI'/);
  });

  it('compression inside compression is refused by name', async () => {
    const xz = COMPRESSORS.xz!(raw);
    const twice = join(dir.path, 'twice.img.xz.gz');
    run('sh', ['-c', `gzip -c '${xz}' > '${twice}'`]);
    await expect(openDisk(twice)).rejects.toMatchObject({ code: 'EFORMAT', message: expect.stringMatching(/xz-compressed inside gzip/) });
  });

  it('a stream that breaks, or is cut short, is one EFORMAT error for every compression', async () => {
    for (const [compression, compress] of Object.entries(COMPRESSORS)) {
      const whole = readFileSync(compress(fixtureFile('linux', join(dir.path))));
      const cut = join(dir.path, `cut.${compression}`);
      writeFileSync(cut, whole.subarray(0, Math.floor(whole.length / 2)));
      await expect(openDisk(cut), compression).rejects.toMatchObject({ code: 'EFORMAT', message: expect.stringContaining(`${compression}-compressed but cannot be decompressed`) });
      const garbled = Buffer.from(whole);
      for (let i = 16; i < garbled.length; i += 7) garbled[i] = garbled[i]! ^ 0x5a;
      writeFileSync(cut, garbled);
      await expect(openDisk(cut), compression).rejects.toMatchObject({ code: 'EFORMAT' });
    }
  });

  it('a zstd frame that asks for a window above 128 MiB is refused before anything is allocated', async () => {
    // Frame header: magic, descriptor 0 (no checksum, not single-segment), window byte 0xF8 =
    // 2^(10+31) bytes, then one raw last block of 4 bytes.
    const frame = Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x00, 0xf8, 0x21, 0x00, 0x00, 1, 2, 3, 4]);
    const file = join(dir.path, 'window.zst');
    writeFileSync(file, frame);
    const before = process.memoryUsage().rss;
    await expect(openDisk(file)).rejects.toMatchObject({ code: 'EFORMAT', message: expect.stringMatching(/window.*--long=31/) });
    expect(process.memoryUsage().rss - before).toBeLessThan(64 * MiB);
  });

  it('the temporary copy is gone once the disk is closed, and also when the command fails', () => {
    const tmp = join(dir.path, 'tmp');
    mkdirSync(tmp);
    const packed = COMPRESSORS.zstd!(fixtureFile('data', dir.path));
    expect(gptdoctor(['check', packed]).status).toBeLessThan(2);
    const broken = join(dir.path, 'broken.img.gz');
    writeFileSync(broken, readFileSync(COMPRESSORS.gzip!(fixtureFile('grown', dir.path))).subarray(0, 400));
    for (const disk of [packed, broken]) {
      const r = spawnSync(process.execPath, [BIN, 'inspect', disk], { env: { ...process.env, TMPDIR: tmp } });
      expect(r.status).toBeLessThan(3);
      expect(readdirSync(tmp)).toEqual([]);
    }
  });
});

describe.runIf(haveTools('gzip', 'zstd', 'sgdisk'))('compressed images in bounded memory', () => {
  const dir = tempDir();
  afterAll(() => dir.cleanup());

  /** A 6 GiB sparse disk with a GPT by sgdisk and 8 MiB of data near its middle. */
  function bigDisk(): string {
    const path = join(dir.path, 'big.img');
    closeSync(openSync(path, 'w'));
    run('truncate', ['-s', '6G', path]);
    run('sgdisk', ['-n', '1:2048:+100M', '-t', '1:ef00', '-n', '2:0:0', path]);
    const fd = openSync(path, 'r+');
    writeSync(fd, Buffer.alloc(8 * MiB, 0xa5), 0, 8 * MiB, 3 * GiB);
    closeSync(fd);
    return path;
  }

  it('a .zst that decompresses to 6 GiB is checked in under 256 MiB of memory, like the raw disk', () => {
    const big = bigDisk();
    run('zstd', ['-q', '-k', '-T2', big]);
    const r = cliWithPeakMemory(['check', '--json', '--profile', 'structure', `${big}.zst`]);
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).source.size).toBe(6 * GiB);
    expect(r.maxRssBytes).toBeLessThan(256 * MiB);
  });

  it('a multi-member .gz that decompresses to 4.5 GiB (past the old in-memory limit) is read in bounded memory', () => {
    // One gzip member of 256 MiB of zeros, repeated: gunzip reads concatenated members as one stream.
    const file = join(dir.path, 'members.img.gz');
    run('sh', ['-c', `head -c 268435456 '${bigDisk()}' | gzip -1 > '${file}'`]);
    const member = join(dir.path, 'zeros.gz');
    run('sh', ['-c', `head -c 268435456 /dev/zero | gzip -1 > '${member}'`]);
    for (let i = 0; i < 17; i++) run('sh', ['-c', `cat '${member}' >> '${file}'`]);
    const r = cliWithPeakMemory(['inspect', '--json', file]);
    expect(r.status, r.stderr).toBe(0); // the primary is valid; the backup of the 6 GiB disk lies past 4.5 GiB
    expect(JSON.parse(r.stdout).source.size).toBe(18 * 256 * MiB);
    expect(r.maxRssBytes).toBeLessThan(256 * MiB);
  });

  it('scan --jobs 8 of eight compressed images stays under 256 MiB', () => {
    const files: string[] = [];
    for (let i = 0; i < 8; i++) {
      const img = fixtureFile(i % 2 ? 'linux' : 'windows-esp-basic', dir.path);
      const target = join(dir.path, `s${i}.img`);
      writeFileSync(target, readFileSync(img));
      files.push(i % 2 ? COMPRESSORS.zstd!(target) : COMPRESSORS.gzip!(target));
    }
    const r = cliWithPeakMemory(['scan', '--json', '--jobs', '8', ...files]);
    // Copies of two fixtures: the late lines of their identity collisions follow the eight reports.
    const checks = r.stdout.trim().split('\n').map((l) => JSON.parse(l)).filter((l) => !l.late);
    expect(checks.map((l) => l.source.path).sort()).toEqual([...files].sort());
    expect(r.maxRssBytes).toBeLessThan(256 * MiB);
  });
});
