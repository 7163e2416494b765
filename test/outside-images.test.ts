import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkDisk, inspectDisk } from '../src/api.js';
import { openDisk } from '../src/disk/open.js';
import { gptdoctor } from './helpers/cli.js';
import { fixtureFile } from './helpers/images.js';
import { canUseLoop, haveTools, run, tempDir } from './helpers/tools.js';

const GPT_BYTES = new URL('../scripts/gpt-bytes.py', import.meta.url).pathname;
const codes = (r: { findings: Array<{ code: string; severity: string }> }): string[] => r.findings.map((f) => `${f.code}:${f.severity}`);

/** A 64 MiB disk partitioned by sgdisk. */
function sgdiskDisk(dir: string, name: string, ...args: string[]): string {
  const path = join(dir, name);
  run('truncate', ['-s', '64M', path]);
  run('sgdisk', ['-n', '1:2048:+10M', '-t', '1:8300', '-n', '2:0:+20M', '-t', '2:0700', ...args, path]);
  return path;
}

describe.runIf(haveTools('qemu-img', 'bzip2', 'lz4', 'zip', 'tar', 'sgdisk'))('files gptdoctor knows but cannot read are refused by name', () => {
  const dir = tempDir();
  afterAll(() => dir.cleanup());
  const raw = fixtureFile('linux', dir.path);

  const made: Array<[string, () => string, RegExp]> = [
    ['bzip2', () => (run('bzip2', ['-k', raw]), `${raw}.bz2`), /bzip2-compressed/],
    ['lz4', () => (run('lz4', ['-q', '-k', raw, `${raw}.lz4`]), `${raw}.lz4`), /lz4-compressed/],
    ['zip', () => (run('zip', ['-q', '-j', `${raw}.zip`, raw]), `${raw}.zip`), /ZIP archive/],
    ['tar', () => (run('tar', ['-cf', `${raw}.tar`, '-C', dir.path, 'linux.img']), `${raw}.tar`), /tar archive/],
    ['VDI', () => (run('qemu-img', ['convert', '-f', 'raw', '-O', 'vdi', raw, `${raw}.vdi`]), `${raw}.vdi`), /VirtualBox VDI/],
    ['QED', () => (run('qemu-img', ['convert', '-f', 'raw', '-O', 'qed', raw, `${raw}.qed`]), `${raw}.qed`), /QED image/],
    ['Parallels', () => (run('qemu-img', ['convert', '-f', 'raw', '-O', 'parallels', raw, `${raw}.hdd`]), `${raw}.hdd`), /Parallels disk image/],
  ];
  for (const [what, make, message] of made) {
    it(`${what} (made by its own tool) is EFORMAT naming it, in one line`, async () => {
      const file = make();
      await expect(openDisk(file)).rejects.toMatchObject({ code: 'EFORMAT', message });
      const cli = gptdoctor(['check', file]);
      expect(cli.status).toBe(2);
      expect(cli.stderr.trim().split('\n')).toHaveLength(1);
    });
  }

  it('evidence and image formats no tool here writes are refused by their magic (EWF, AFF, ESX COWD, UDIF)', async () => {
    // Signatures per their specifications: libewf's "EVF\t\r\n\xff\0", AFF's "AFF10\r\n\0",
    // VMware's COWD sparse header, and Apple UDIF's "koly" trailer in the last 512 bytes.
    const cases: Array<[string, Buffer, RegExp]> = [
      ['e01', Buffer.concat([Buffer.from('EVF\x09\x0d\x0a\xff\x00', 'latin1'), Buffer.alloc(8192)]), /EnCase\/EWF/],
      ['aff', Buffer.concat([Buffer.from('AFF10\r\n\x00', 'latin1'), Buffer.alloc(8192)]), /AFF evidence/],
      ['cowd', Buffer.concat([Buffer.from('COWD'), Buffer.alloc(8192)]), /COWD/],
      ['dmg', Buffer.concat([Buffer.alloc(8192, 0x11), Buffer.from('koly'), Buffer.alloc(508)]), /UDIF/],
    ];
    for (const [name, bytes, message] of cases) {
      const file = join(dir.path, `x.${name}`);
      writeFileSync(file, bytes);
      await expect(openDisk(file), name).rejects.toMatchObject({ code: 'EFORMAT', message });
    }
  });

  it('a raw GPT disk whose boot code happens to begin like a ZIP file is still read as a disk', async () => {
    const disk = readFileSync(raw);
    disk.write('PK\x03\x04', 0, 'latin1');
    const file = join(dir.path, 'pk.img');
    writeFileSync(file, disk);
    const source = await openDisk(file);
    expect(source.format).toBe('raw');
    await source.close();
    expect((await inspectDisk(file)).primary.valid).toBe(true);
  });
});

describe.runIf(haveTools('sgdisk', 'sfdisk'))('clipped images, other sector sizes, MBR disks, small and misplaced arrays', () => {
  const dir = tempDir();
  afterAll(() => dir.cleanup());

  it('the first 16.5 KiB of a disk (one array sector short) is image-truncated once, never "both headers damaged"', async () => {
    const disk = readFileSync(sgdiskDisk(dir.path, 'whole.img'));
    for (const keep of [16896, 8192, 1024]) {
      const file = join(dir.path, `clip-${keep}.img`);
      writeFileSync(file, disk.subarray(0, keep));
      const report = await checkDisk(file);
      expect(codes(report).filter((c) => c.endsWith(':error')), String(keep)).toEqual(['image-truncated:error']);
      expect(report.findings[0]!.message).toMatch(/ends inside the primary entry array.*header itself is intact/);
      const inspect = await inspectDisk(file);
      expect(inspect.primary.headerValid).toBe(true);
      if (keep > 2048) expect(inspect.otherCopies).toEqual([expect.objectContaining({ copy: 'primary', verified: false, partitions: [expect.objectContaining({ index: 1, firstLba: 2048 }), expect.objectContaining({ index: 2, firstLba: 22528 })] })]);
    }
  });

  it('a 512-byte GPT read with --sector-size 4096 is one sector-size-mismatch, and the summary says so', async () => {
    const file = sgdiskDisk(dir.path, 'ss.img');
    const report = await checkDisk(file, { sectorSize: 4096 });
    expect(codes(report)).toEqual(['sector-size-mismatch:error']);
    const cli = gptdoctor(['check', '--sector-size', '4096', file]);
    expect(cli.stdout).toMatch(/--sector-size 512/);
    expect(cli.stdout).toMatch(/read with the wrong sector size\.$/m);
    expect(cli.stdout).not.toMatch(/(is|are) damaged|needs repair/);
  });

  it('an MBR disk made by sfdisk is described as an MBR disk: a warning, exit 0, no "needs repair"', () => {
    const file = join(dir.path, 'mbr.img');
    run('truncate', ['-s', '64M', file]);
    run('sfdisk', ['--quiet', file], 'label: dos\n,20M,83,*\n,,7\n');
    const cli = gptdoctor(['check', '--json', file]);
    expect(cli.status).toBe(0);
    const findings = JSON.parse(cli.stdout).findings as Array<{ code: string; severity: string; message: string }>;
    expect(findings.map((f) => `${f.code}:${f.severity}`)).toEqual(['mbr-disk:warning']);
    expect(findings[0]!.message).toMatch(/MBR-partitioned disk \(slot 0 type 0x83 \(active\), slot 1 type 0x07\)/);
    expect(gptdoctor(['check', file]).stdout).not.toMatch(/needs repair|damaged/);
    expect(findings[0]!.message).toMatch(/Converting it to GPT needs the last 33 sectors for the backup GPT, where slot 1 ends: shrink it first/);
  });

  it('an entry array smaller than 16,384 bytes is a warning (sgdisk -S 4)', async () => {
    const file = sgdiskDisk(dir.path, 'small.img', '-S', '4');
    expect(codes(await checkDisk(file))).toContain('array-small:warning');
    expect(codes(await checkDisk(sgdiskDisk(dir.path, 'normal.img')))).not.toContain('array-small:warning');
  });

  it('an entry array overlapping FirstUsableLBA is an error, with no fix line repair would refuse', async () => {
    const file = sgdiskDisk(dir.path, 'overlap.img');
    run('python3', [GPT_BYTES, 'header', file, 'both', 'first_usable', '30']);
    const report = await checkDisk(file);
    const finding = report.findings.find((f) => f.code === 'array-in-usable-range');
    expect(finding).toMatchObject({ severity: 'error', message: expect.stringMatching(/primary entry array \(LBA 2\.\.33\) runs past first usable LBA 30/) });
    expect(finding!.fix).toBeUndefined();
    expect(codes(report)).not.toContain('header-unusual:warning');
  });

  it('inspect shows free space as sgdisk counts it, and both copies when their entries differ', async () => {
    const file = sgdiskDisk(dir.path, 'free.img', '-n', '3:100000:+1M');
    const sgdiskFree = Number(/Total free space is (\d+) sectors/.exec(run('sgdisk', ['-p', file]))![1]);
    const report = await inspectDisk(file);
    expect(report.freeSpace?.totalSectors).toBe(sgdiskFree);
    const third = report.partitions.find((p) => p.index === 3)!.firstLba; // sgdisk aligns 100000 up to 2048
    expect(report.freeSpace?.extents).toBe(3); // 34..2047, between partitions 2 and 3, after 3
    expect(report.freeSpace?.largest[0]).toEqual({ firstLba: 63488, lastLba: third - 1, sectors: third - 63488, bytes: (third - 63488) * 512 });
    expect(report.otherCopies).toEqual([]);
    // A CRC-valid primary whose partition 2 ends elsewhere: both copies valid, different.
    run('python3', [GPT_BYTES, 'entry-primary', file, '2', 'last_lba', '50000']);
    const differing = await inspectDisk(file);
    expect(differing.otherCopies).toEqual([expect.objectContaining({ copy: 'backup', verified: true, differences: ['partition 2: last LBA 50000 → 63487'] })]);
    expect(gptdoctor(['inspect', file]).stdout).toMatch(/backup GPT is valid but its entries differ[^\n]*\n  partition 2: last LBA 50000 → 63487/);
    const check = await checkDisk(file);
    expect(check.findings.find((f) => f.code === 'headers-disagree')?.message).toMatch(/entry arrays differ \(primary → backup\): partition 2: last LBA 50000 → 63487/);
  });
});

describe.runIf(haveTools('sgdisk', 'losetup') && canUseLoop())('a VMDK whose flat extent is a block device (ESXi raw extents)', () => {
  const dir = tempDir();
  afterAll(() => dir.cleanup());

  it('reads the device through its own size, found by its absolute path', async () => {
    const raw = sgdiskDisk(dir.path, 'dev.img');
    const device = run('losetup', ['--find', '--show', raw]).trim();
    try {
      const descriptor = join(dir.path, 'onto-device.vmdk');
      writeFileSync(descriptor, `# Disk DescriptorFile\nversion=1\nCID=fffffffe\nparentCID=ffffffff\ncreateType="vmfs"\n\nRW 131072 VMFS "${device}" 0\n`);
      const report = await inspectDisk(descriptor);
      expect(report.source.format).toBe('vmdk');
      expect(report.partitions.map((p) => p.firstLba)).toEqual([2048, 22528]);
      expect(report.backup.valid).toBe(true);
    } finally {
      run('losetup', ['--detach', device]);
    }
  });
});
