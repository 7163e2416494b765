import { readdirSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkDisk, inspectDisk } from '../src/api.js';
import { openDisk } from '../src/disk/open.js';
import { vhdxChecksum } from '../src/disk/vhdx.js';
import { crc32c } from '../src/gpt/crc32.js';
import { gptdoctor } from './helpers/cli.js';
import { fixtureFile, sha256 } from './helpers/images.js';
import { haveTools, prng, run, runAll, tempDir } from './helpers/tools.js';

/**
 * VHD and VHDX images made by qemu-img from the raw fixtures. gptdoctor must read the same bytes
 * that `qemu-img convert -O raw` produces, and report the same partitions and findings.
 */
const FORMATS: Array<[string, string[], string]> = [
  ['vhd-fixed', ['-O', 'vpc', '-o', 'subformat=fixed,force_size=on'], 'vhd'],
  ['vhd-dynamic', ['-O', 'vpc', '-o', 'subformat=dynamic,force_size=on'], 'vhd'],
  ['vhdx-dynamic', ['-O', 'vhdx', '-o', 'subformat=dynamic'], 'vhdx'],
  ['vhdx-dynamic-1m', ['-O', 'vhdx', '-o', 'subformat=dynamic,block_size=1M'], 'vhdx'],
  ['vhdx-fixed', ['-O', 'vhdx', '-o', 'subformat=fixed'], 'vhdx'],
  ['qcow2', ['-O', 'qcow2'], 'qcow2'],
  ['qcow2-compressed', ['-c', '-O', 'qcow2', '-o', 'cluster_size=4096'], 'qcow2'],
  ['vmdk-sparse', ['-O', 'vmdk', '-o', 'subformat=monolithicSparse'], 'vmdk'],
  ['vmdk-stream', ['-O', 'vmdk', '-o', 'subformat=streamOptimized'], 'vmdk'],
  ['vmdk-zeroed-grains', ['-O', 'vmdk', '-o', 'subformat=monolithicSparse,zeroed_grain=on'], 'vmdk'],
  ['vmdk-flat', ['-O', 'vmdk', '-o', 'subformat=monolithicFlat'], 'vmdk'],
  ['vmdk-split-flat', ['-O', 'vmdk', '-o', 'subformat=twoGbMaxExtentFlat'], 'vmdk'],
  ['vmdk-split-sparse', ['-O', 'vmdk', '-o', 'subformat=twoGbMaxExtentSparse'], 'vmdk'],
];

describe.runIf(haveTools('qemu-img'))('VHD and VHDX containers', () => {
  const dir = tempDir();
  afterAll(() => dir.cleanup());
  const convert = (source: string, args: string[], name: string): string => {
    const out = join(dir.path, name);
    run('qemu-img', ['convert', '-f', 'raw', ...args, source, out]);
    return out;
  };

  for (const fixture of ['windows-esp-basic', 'linux', 'grown']) {
    describe(fixture, () => {
      const raw = fixtureFile(fixture, dir.path);
      it.each(FORMATS)('%s reads like qemu-img convert -O raw', async (label, args, format) => {
        const container = convert(raw, args, `${fixture}.${label}`);
        const back = join(dir.path, `${fixture}.${label}.raw`);
        // -f is needed: qemu-img itself mistakes a fixed VHD (no magic at offset 0) for raw.
        run('qemu-img', ['convert', '-f', format === 'vhd' ? 'vpc' : format, '-O', 'raw', container, back]);
        const expected = new Uint8Array(readFileSync(back));
        const source = await openDisk(container);
        try {
          expect(source.format).toBe(format);
          expect(source.size).toBe(expected.length);
          const last = expected.length - 64 * 512;
          for (const [offset, length] of [[0, 64 * 512], [last, 64 * 512], [2048 * 512, 256 * 1024], [Math.floor(expected.length / 2 / 512) * 512, 4096]] as const) {
            expect(sha256(await source.read(offset, length)), `${label} @${offset}`).toBe(sha256(expected.subarray(offset, offset + length)));
          }
        } finally {
          await source.close();
        }
        const inContainer = await checkDisk(container);
        const onRaw = await checkDisk(raw);
        expect(inContainer.source.format).toBe(format);
        expect(inContainer.findings.map((f) => f.code)).toEqual(onRaw.findings.map((f) => f.code));
        expect((await inspectDisk(container)).partitions).toEqual((await inspectDisk(raw)).partitions);
      });
    });
  }

  it('reads well under 1 MiB of a 100 GiB dynamic VHDX', async () => {
    const raw = join(dir.path, 'big.raw');
    writeFileSync(raw, '');
    truncateSync(raw, 100 * 1024 ** 3);
    run('sfdisk', ['--quiet', raw], 'label: gpt\nsize=1GiB, type=U\nsize=16MiB, type=E3C9E316-0B5C-4DB8-817D-F92DF00215AE\ntype=L\n');
    const big = convert(raw, ['-O', 'vhdx'], 'big.vhdx');
    const source = await openDisk(big);
    const report = await checkDisk(source);
    await source.close();
    expect(report.source).toMatchObject({ format: 'vhdx', size: 100 * 1024 ** 3 });
    expect(report.partitions).toHaveLength(3);
    expect(report.findings.filter((f) => f.severity === 'error').map((f) => f.code)).toEqual(['esp-not-fat']);
    expect(source.bytesRead).toBeLessThan(1024 * 1024);
  });

  it('a VHD made without force_size is larger than the raw disk, and check says the backup is not at the end', async () => {
    const raw = fixtureFile('data', dir.path);
    const vhd = convert(raw, ['-O', 'vpc', '-o', 'subformat=dynamic'], 'data-chs.vhd');
    const report = await checkDisk(vhd);
    expect(report.source.size).toBeGreaterThan(statSync(raw).size);
    expect(report.findings.map((f) => f.code)).toContain('backup-not-at-end');
    expect(report.source.container).toMatchObject({ type: 'dynamic', creator: 'qemu', backupHeaderFits: 'neither size' });
    const exact = convert(raw, ['-O', 'vpc', '-o', 'subformat=fixed,force_size=on'], 'data-exact.vhd');
    const fits = (await inspectDisk(exact)).source.container!;
    expect(fits).toMatchObject({ type: 'fixed', creator: 'qem2', currentSize: statSync(raw).size, backupHeaderFits: 'current size (Windows, Hyper-V, Azure)' });
    expect(fits.chsSize).not.toBe(fits.currentSize);
  });

  it('reads a qcow2 overlay through its backing file, and refuses a backing loop or a missing backing file', async () => {
    const raw = fixtureFile('windows-esp-basic', dir.path);
    const base = convert(raw, ['-O', 'qcow2'], 'base.qcow2');
    const overlay = join(dir.path, 'overlay.qcow2');
    run('qemu-img', ['create', '-q', '-f', 'qcow2', '-b', 'base.qcow2', '-F', 'qcow2', overlay]);
    expect((await checkDisk(overlay)).findings.map((f) => f.code)).toEqual((await checkDisk(raw)).findings.map((f) => f.code));
    run('qemu-img', ['rebase', '-u', '-f', 'qcow2', '-b', 'overlay.qcow2', '-F', 'qcow2', base]);
    let r = gptdoctor(['check', overlay]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/backing chain loops/);
    run('qemu-img', ['rebase', '-u', '-f', 'qcow2', '-b', 'gone.qcow2', '-F', 'qcow2', overlay]);
    r = gptdoctor(['check', overlay]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/backing file .*gone\.qcow2 is missing/);
  });

  it('refuses, with a reason, a VHDX whose log is named but missing, and a truncated VHDX', async () => {
    const raw = fixtureFile('linux', dir.path);
    const pending = convert(raw, ['-O', 'vhdx'], 'pending.vhdx');
    const bytes = new Uint8Array(readFileSync(pending));
    for (const at of [64 * 1024, 128 * 1024]) {
      const header = bytes.subarray(at, at + 4096);
      header.set([1, 2, 3, 4], 48); // a LogGuid: the log must be replayed before the data can be trusted
      new DataView(header.buffer, header.byteOffset).setUint32(4, vhdxChecksum(header), true);
    }
    writeFileSync(pending, bytes);
    let r = gptdoctor(['check', pending]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/names a VHDX log .* holds no valid sequence: the file is corrupt/);

    const cut = convert(raw, ['-O', 'vhdx'], 'cut.vhdx');
    truncateSync(cut, 2 * 1024 * 1024);
    r = gptdoctor(['check', cut]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^gptdoctor: .*cut\.vhdx/);
  });
});

describe.runIf(haveTools('qemu-img'))('hostile containers', () => {
  const dir = tempDir();
  afterAll(() => dir.cleanup());

  /** A damaged container gives a report or a DiskError with a stable code: never a crash. */
  async function expectReportOrDiskError(image: string): Promise<void> {
    try {
      await checkDisk(image);
    } catch (err) {
      expect((err as { code?: string }).code, String(err)).toMatch(/^E[A-Z]+$/);
      expect((err as Error).name).toBe('DiskError');
    }
  }

  it.each([['vhdx', 'vhdx', 0, 5 * 1024 * 1024], ['vpc', 'vhd', 0, 4096], ['vmdk', 'vmdk', 0, 128 * 1024], ['qcow2', 'qcow2', 0, 384 * 1024]] as const)('%s: 500 mutations of the metadata give a report or a clear error', async (qemuFormat, ext, from, to) => {
    const raw = fixtureFile('linux', dir.path);
    const image = join(dir.path, `base.${ext}`);
    run('qemu-img', ['convert', '-f', 'raw', '-O', qemuFormat, raw, image]);
    const original = new Uint8Array(readFileSync(image));
    const mutated = join(dir.path, `mutated.${ext}`);
    const rand = prng(12345);
    const tail = original.length - 512;
    for (let i = 0; i < 500; i++) {
      const bytes = original.slice();
      for (let f = 0; f < 1 + Math.floor(rand() * 8); f++) {
        const at = rand() < 0.8 ? from + Math.floor(rand() * (to - from)) : tail + Math.floor(rand() * 512);
        bytes[at] = Math.floor(rand() * 256);
      }
      writeFileSync(mutated, bytes);
      await expectReportOrDiskError(mutated);
    }
  }, 240_000); // most of it is writing the 20 MiB VHDX 500 times; under a loaded machine that took 120 s

  it('VMDK descriptor files: 500 mutations of the text give a report or a clear error', async () => {
    const raw = fixtureFile('linux', dir.path);
    const image = join(dir.path, 'split.vmdk');
    run('qemu-img', ['convert', '-f', 'raw', '-O', 'vmdk', '-o', 'subformat=twoGbMaxExtentFlat', raw, image]);
    const original = new Uint8Array(readFileSync(image));
    const rand = prng(777);
    const alphabet = new TextEncoder().encode('0123456789 "\n=#RWFLATSPARSEZEROx-.');
    for (let i = 0; i < 500; i++) {
      const bytes = original.slice();
      for (let f = 0; f < 1 + Math.floor(rand() * 6); f++) bytes[Math.floor(rand() * 400)] = alphabet[Math.floor(rand() * alphabet.length)]!;
      writeFileSync(image, bytes);
      await expectReportOrDiskError(image);
    }
  }, 120_000);
});

describe.runIf(haveTools('qemu-img', 'sfdisk', 'sgdisk'))('writing into VHD and VHDX', () => {
  const dir = tempDir();
  afterAll(() => dir.cleanup());

  it.each([
    ['vhdx-dynamic', ['-O', 'vhdx', '-o', 'subformat=dynamic'], 'vhdx'],
    ['vhdx-fixed', ['-O', 'vhdx', '-o', 'subformat=fixed'], 'vhdx'],
    ['vhd-dynamic', ['-O', 'vpc', '-o', 'subformat=dynamic,force_size=on'], 'vpc'],
    ['vhd-fixed', ['-O', 'vpc', '-o', 'subformat=fixed,force_size=on'], 'vpc'],
  ] as const)('%s: the flagship fix, checked by qemu-img, sfdisk and sgdisk; undo restores the file', (label, args, qemuFormat) => {
    const raw = fixtureFile('windows-esp-basic', dir.path);
    const image = join(dir.path, `flagship.${label}`);
    run('qemu-img', ['convert', '-f', 'raw', ...args, raw, image]);
    const original = sha256(readFileSync(image));

    const set = gptdoctor(['set', image, '1', '--type', 'esp', '--yes']);
    expect(set.status, set.stderr).toBe(0);
    if (qemuFormat === 'vhdx') expect(run('qemu-img', ['check', '-f', 'vhdx', image])).toMatch(/No errors were found/);
    const back = join(dir.path, `flagship.${label}.raw`);
    run('qemu-img', ['convert', '-f', qemuFormat, '-O', 'raw', image, back]);
    const sf = JSON.parse(run('sfdisk', ['--json', back])) as { partitiontable: { partitions: Array<{ type: string }> } };
    expect(sf.partitiontable.partitions[0]!.type).toBe('C12A7328-F81F-11D2-BA4B-00A0C93EC93B');
    expect(runAll('sgdisk', ['-v', back]).output).toMatch(/No problems found/);
    expect(JSON.parse(gptdoctor(['check', '--json', image]).stdout).ok).toBe(true);

    const undoFile = /Undo with: gptdoctor undo (.+)/.exec(set.stdout)![1]!.trim();
    const undo = gptdoctor(['undo', '--yes', undoFile]);
    expect(undo.status, undo.stderr).toBe(0);
    expect(sha256(readFileSync(image))).toBe(original);
  });

  it('refuses, writing nothing, when a write would need a new VHDX block', () => {
    const raw = fixtureFile('grown', dir.path);
    const image = join(dir.path, 'grown.vhdx');
    run('qemu-img', ['convert', '-f', 'raw', '-O', 'vhdx', raw, image]);
    const original = sha256(readFileSync(image));
    const r = gptdoctor(['repair', '--yes', image]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/block \d+ is (ZERO|NOT_PRESENT).*never allocates.*Nothing was written/);
    expect(sha256(readFileSync(image))).toBe(original);
    expect(readdirSync(dir.path).filter((f) => f.startsWith('grown.vhdx.gptdoctor-undo'))).toEqual([]);
  });
});

describe.runIf(haveTools('qemu-img', 'qemu-io', 'sfdisk'))('a VHDX with a pending log', () => {
  const dir = tempDir();
  afterAll(() => dir.cleanup());

  /**
   * The recipe of the format brief: qemu-io writes the GPT area into a fresh dynamic VHDX (qemu
   * logs the BAT update, applies it and clears LogGuid); then the BAT entry is set back to ZERO
   * and the log's GUID put back into both headers, as if the machine had died before the BAT
   * write. Only a reader that replays the log sees the GPT.
   */
  function pendingLogVhdx(): string {
    const raw = join(dir.path, 'disk.raw');
    writeFileSync(raw, '');
    truncateSync(raw, 64 * 1024 * 1024);
    run('sfdisk', ['--quiet', raw], 'label: gpt\nsize=16MiB, type=L\n');
    const head = join(dir.path, 'head.bin');
    writeFileSync(head, readFileSync(raw).subarray(0, 1024 * 1024));
    const image = join(dir.path, 'pending.vhdx');
    run('qemu-img', ['create', '-q', '-f', 'vhdx', image, '64M']);
    run('qemu-io', ['-f', 'vhdx', '-c', `write -s ${head} 0 1M`, image]);
    const bytes = new Uint8Array(readFileSync(image));
    const view = new DataView(bytes.buffer);
    const logGuid = bytes.slice(0x100000 + 32, 0x100000 + 48); // the entry qemu left in the log
    expect(String.fromCharCode(...bytes.subarray(0x100000, 0x100004))).toBe('loge');
    const batOffset = Number(view.getBigUint64(0x30000 + 16 + 16, true)); // region table entry 0 (qemu: BAT first)
    view.setBigUint64(batOffset, 2n, true); // block 0 back to ZERO, as before the logged update
    for (const at of [64 * 1024, 128 * 1024]) {
      const header = bytes.subarray(at, at + 4096);
      header.set(logGuid, 48);
      new DataView(header.buffer, header.byteOffset).setUint32(4, vhdxChecksum(header), true);
    }
    writeFileSync(image, bytes);
    return image;
  }

  it('is read through its log, replayed in memory, and the file is never written', async () => {
    const image = pendingLogVhdx();
    const before = sha256(readFileSync(image));

    const report = await checkDisk(image);
    expect(report.source.format).toBe('vhdx');
    expect(report.partitions).toHaveLength(1);
    expect(sha256(readFileSync(image))).toBe(before);
    // Writing is refused while the log is pending: it could remap the very blocks to be written.
    const repair = gptdoctor(['repair', image, '--yes']);
    expect(repair.status).toBe(2);
    expect(repair.stderr).toMatch(/log holds 1 change that was never applied/);
    expect(sha256(readFileSync(image))).toBe(before);
  });

  it('a log entry whose eight zero descriptors claim 256 MiB each is refused as damaged, in bounded memory', async () => {
    const image = pendingLogVhdx();
    const bytes = new Uint8Array(readFileSync(image));
    const length = new DataView(bytes.buffer).getUint32(0x100000 + 8, true); // EntryLength (MS-VHDX §2.3.1.1)
    const entry = bytes.subarray(0x100000, 0x100000 + length);
    const view = new DataView(entry.buffer, entry.byteOffset, length);
    const sequence = view.getBigUint64(16, true);
    view.setUint32(24, 8, true); // DescriptorCount
    for (let i = 0; i < 8; i++) {
      const d = 64 + i * 32;
      entry.set([0x7a, 0x65, 0x72, 0x6f], d); // "zero"
      view.setBigUint64(d + 8, 256n * 1024n * 1024n, true); // ZeroLength
      view.setBigUint64(d + 16, BigInt(i) * 256n * 1024n * 1024n, true); // FileOffset
      view.setBigUint64(d + 24, sequence, true);
    }
    view.setUint32(4, 0, true);
    view.setUint32(4, crc32c(entry), true);
    writeFileSync(image, bytes);
    const before = process.memoryUsage().rss;
    await expect(openDisk(image)).rejects.toMatchObject({ code: 'EFORMAT', message: expect.stringMatching(/log is damaged \(the log zeroes more than 256 MiB/) });
    expect(process.memoryUsage().rss - before).toBeLessThan(256 * 1024 * 1024);
  });
});

describe.runIf(haveTools('qemu-img', 'vhdiinfo'))('libvhdi agrees on the containers', () => {
  const dir = tempDir();
  afterAll(() => dir.cleanup());

  it.each([
    ['vhdx', ['-O', 'vhdx', '-o', 'subformat=dynamic'], 'VHDX', 'Dynamic'],
    ['vhdx', ['-O', 'vhdx', '-o', 'subformat=fixed'], 'VHDX', 'Fixed'],
    ['vhd', ['-O', 'vpc', '-o', 'subformat=dynamic'], 'VHD', 'Dynamic'],
    ['vhd', ['-O', 'vpc', '-o', 'subformat=fixed,force_size=on'], 'VHD', 'Fixed'],
  ] as const)('%s %s: vhdiinfo reports the same media size and sector size', async (ext, args, format, type) => {
    const raw = fixtureFile('linux', dir.path);
    const image = join(dir.path, `oracle-${type}.${ext}`);
    run('qemu-img', ['convert', '-f', 'raw', ...args, raw, image]);
    const info = run('vhdiinfo', [image]);
    expect(info).toMatch(new RegExp(`Format\\s*:\\s*${format}\\b`));
    expect(info).toMatch(new RegExp(`Disk type\\s*:\\s*${type}`));
    const report = await inspectDisk(image);
    expect(info).toContain(`(${report.source.size} bytes)`);
    expect(info).toMatch(new RegExp(`Bytes per sector\\s*:\\s*${report.source.sectorSize} bytes`));
    if (ext === 'vhd') expect(report.source.container?.type).toBe(type.toLowerCase());
  });
});
