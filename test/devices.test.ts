import { closeSync, constants, existsSync, openSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { checkDisk, inspectDisk } from '../src/api.js';
import { isWindowsDevicePath } from '../src/disk/device-path.js';
import { gptdoctor } from './helpers/cli.js';
import { fixtureFile, sha256 } from './helpers/images.js';
import { canUseLoop, haveTools, run, runAll, tempDir } from './helpers/tools.js';

/**
 * Real Linux block devices through the native addon: loop devices at 512 and 4096 bytes per
 * sector must read exactly like the image file behind them, and writes must be exclusive.
 */
function attach(file: string, sectorSize: number, partscan = false): string {
  return run('losetup', ['--sector-size', String(sectorSize), ...(partscan ? ['--partscan'] : []), '--find', '--show', file]).trim();
}
const detach = (device: string): void => void run('losetup', ['--detach', device]);

/** Whether the running kernel parses GPTs at all (it says so in /proc/config.gz when it has one). */
function kernelParsesGpt(): boolean {
  if (!existsSync('/proc/config.gz')) return true;
  return /^CONFIG_EFI_PARTITION=y/m.test(gunzipSync(readFileSync('/proc/config.gz')).toString('utf8'));
}

describe('Windows device paths', () => {
  it('go to the native addon; files behind the same prefix stay files', () => {
    for (const p of ['\\\\.\\PhysicalDrive0', '\\\\.\\physicaldrive12', '\\\\.\\C:', '\\\\?\\Volume{0b0c4c36-7b43-4f5b-9d2e-5f3c2a1d0e9f}\\', '\\\\.\\Harddisk0Partition2', '\\\\?\\GLOBALROOT\\Device\\Harddisk0\\Partition0']) {
      expect(isWindowsDevicePath(p), p).toBe(true);
    }
    for (const p of ['\\\\?\\C:\\images\\disk.img', 'C:\\disk.img', '/dev/sda', 'disk.img', '\\\\server\\share\\disk.vhdx']) {
      expect(isWindowsDevicePath(p), p).toBe(false);
    }
  });
});

describe.runIf(canUseLoop() && haveTools('sgdisk', 'sfdisk', 'partx', 'blockdev'))('loop devices', () => {
  const dir = tempDir();
  afterAll(() => dir.cleanup());

  it.each([['windows-esp-basic', 512], ['sector4k', 4096], ['grown', 512]] as const)('%s on /dev/loopN reads like the file', async (name, sectorSize) => {
    const file = fixtureFile(name, dir.path);
    const device = attach(file, sectorSize);
    try {
      const onDevice = await checkDisk(device);
      const onFile = await checkDisk(file);
      expect(onDevice.source).toMatchObject({ format: 'device', sectorSize, sectorSizeSource: 'declared', size: onFile.source.size });
      expect(onDevice.findings.map((f) => [f.code, f.severity, f.partition])).toEqual(onFile.findings.map((f) => [f.code, f.severity, f.partition]));
      expect((await inspectDisk(device)).partitions).toEqual((await inspectDisk(file)).partitions);
    } finally {
      detach(device);
    }
  });

  it('a 4096-byte image on a 512-byte loop device is a sector-size mismatch', async () => {
    const file = fixtureFile('sector4k', dir.path);
    const device = attach(file, 512);
    try {
      const report = await checkDisk(device);
      expect(report.findings.map((f) => f.code)).toEqual(['sector-size-mismatch']); // not "damaged": nothing else
      expect(report.findings[0]!.message).toMatch(/device sector size is 512 bytes, but a valid GPT was written for 4096-byte sectors.*losetup --sector-size 4096/);
    } finally {
      detach(device);
    }
  });

  it('the flagship fix on a loop device; the kernel re-reads the table', () => {
    const file = fixtureFile('windows-esp-basic', dir.path);
    const device = attach(file, 512, true);
    const name = device.replace('/dev/', '');
    try {
      const set = gptdoctor(['set', device, '1', '--type', 'esp', '--name', 'EFI system partition', '--yes', '--undo-file', `${dir.path}/loop-undo.json`]);
      expect(set.status, set.stderr).toBe(0);
      expect(set.stderr).toMatch(/the kernel re-read the partition table/);
      if (kernelParsesGpt()) {
        expect(readFileSync(`/sys/block/${name}/${name}p1/uevent`, 'utf8')).toMatch(/PARTNAME=EFI system partition/);
      } else {
        // This kernel is built without CONFIG_EFI_PARTITION (Firecracker VMs): BLKRRPART succeeds
        // but creates no partition devices, so there is no kernel view to compare.
        expect(existsSync(`/sys/block/${name}/${name}p1`)).toBe(false);
      }
    } finally {
      detach(device);
    }
    expect(runAll('sgdisk', ['-v', file]).output).toMatch(/No problems found/);
    const sf = JSON.parse(run('sfdisk', ['--json', file])) as { partitiontable: { partitions: Array<{ type: string }> } };
    expect(sf.partitiontable.partitions[0]!.type).toBe('C12A7328-F81F-11D2-BA4B-00A0C93EC93B');
  });

  it('while a partition is open, the kernel is told of each changed partition (BLKPG) and an open one keeps its extent', () => {
    const file = join(dir.path, 'blkpg.img');
    writeFileSync(file, '');
    truncateSync(file, 64 * 1024 * 1024);
    run('sfdisk', ['--quiet', file], 'label: gpt\nstart=2048, size=8MiB\nsize=8MiB\n');
    const device = attach(file, 512, true); // partition scanning on: BLKRRPART is refused (EINVAL) without it
    const name = device.replace('/dev/', '');
    const sys = (part: number, attr: string): number => Number(readFileSync(`/sys/block/${name}/${name}p${part}/${attr}`, 'utf8'));
    let held: number | undefined;
    try {
      // partx parses the table in user space and adds the partitions (BLKPG), whether or not this
      // kernel parses GPTs itself; holding p1 open then makes BLKRRPART refuse.
      run('partx', ['--add', device]);
      held = openSync(`/dev/${name}p1`, 'r');
      expect(runAll('blockdev', ['--rereadpt', device]).status).not.toBe(0);
      // A new table written behind the kernel's back: p2 grows, p3 is new.
      run('sfdisk', ['--quiet', '--no-reread', '--no-tell-kernel', device], 'label: gpt\nstart=2048, size=8MiB\nsize=16MiB\nsize=8MiB\n');
      let r = gptdoctor(['set', device, '3', '--name', 'data', '--yes', '--undo-file', join(dir.path, 'blkpg-undo-1.json')]);
      expect(r.status, r.stderr).toBe(0);
      expect(r.stderr).toMatch(/a partition is open, so the kernel could not re-read the whole table; it was told of each change instead \(BLKPG\): partition 2 grown, partition 3 added/);
      expect([sys(2, 'start'), sys(2, 'size'), sys(3, 'start'), sys(3, 'size')]).toEqual([18432, 32768, 51200, 16384]);
      // Now p1 moves while it is open: the kernel must refuse, and gptdoctor says so.
      run('sfdisk', ['--quiet', '--no-reread', '--no-tell-kernel', device], 'label: gpt\nstart=4096, size=4MiB\nstart=18432, size=16MiB\nsize=8MiB\n');
      r = gptdoctor(['set', device, '1', '--name', 'moved', '--yes', '--undo-file', join(dir.path, 'blkpg-undo-2.json')]);
      expect(r.status, r.stderr).toBe(0);
      expect(r.stderr).toMatch(/telling it of each change instead \(BLKPG\) did not work either; not changed: partition 1: in use, the kernel keeps its old extent \(until/);
      expect([sys(1, 'start'), sys(1, 'size')]).toEqual([2048, 16384]);
      // Undo tells the kernel too (the restored table still has the moved p1 that sfdisk wrote).
      const undo = gptdoctor(['undo', join(dir.path, 'blkpg-undo-2.json'), '--yes']);
      expect(undo.status, undo.stderr).toBe(0);
      expect(undo.stderr).toMatch(/Note: a partition is open, .* not changed: partition 1: in use/);
      // Once p1 is closed, the whole table is re-read.
      closeSync(held);
      held = undefined;
      const again = gptdoctor(['set', device, '1', '--name', 'moved', '--yes', '--undo-file', join(dir.path, 'blkpg-undo-3.json')]);
      expect(again.stderr).toMatch(/Note: the kernel re-read the partition table/);
    } finally {
      if (held !== undefined) closeSync(held);
      detach(device);
    }
    expect(runAll('sgdisk', ['-v', file]).output).toMatch(/No problems found/);
  });

  it('refuses to write to a device another program holds exclusively, writing nothing', () => {
    const file = fixtureFile('windows-esp-basic', dir.path);
    const before = sha256(readFileSync(file));
    const device = attach(file, 512);
    const holder = openSync(device, constants.O_RDONLY | constants.O_EXCL);
    try {
      const r = gptdoctor(['set', device, '1', '--type', 'esp', '--yes', '--undo-file', `${dir.path}/busy.json`]);
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(/EBUSY|busy/);
    } finally {
      closeSync(holder);
      detach(device);
    }
    expect(sha256(readFileSync(file))).toBe(before);
  });

  it('drives lists the loop device with its sector sizes', () => {
    const file = fixtureFile('sector4k', dir.path);
    const device = attach(file, 4096);
    try {
      const r = gptdoctor(['drives', '--json']);
      expect(r.status, r.stderr).toBe(0);
      const drive = (JSON.parse(r.stdout) as Array<{ path: string; logicalSectorSize: number; partitionStyle: string; size: number }>).find((d) => d.path === device);
      expect(drive).toMatchObject({ logicalSectorSize: 4096, partitionStyle: 'gpt', size: 128 * 1024 * 1024 });
    } finally {
      detach(device);
    }
  });
});
