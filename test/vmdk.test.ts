import { execFileSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, readSync, renameSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkDisk, inspectDisk } from '../src/api.js';
import type { BlockSource } from '../src/disk/block-source.js';
import { openDisk } from '../src/disk/open.js';
import { MAX_EXTENTS, parseVmdkDescriptor } from '../src/disk/vmdk-descriptor.js';
import { gptdoctor } from './helpers/cli.js';
import { fixtureFile, sha256 } from './helpers/images.js';
import { haveTools, run, tempDir } from './helpers/tools.js';

describe('VMDK descriptor parser', () => {
  it('reads the CIDs, the parent hint and every kind of extent line', () => {
    const d = parseVmdkDescriptor(
      '# Disk DescriptorFile\nversion=1\nCID=E4D71BD0\nparentCID=bf26b205\ncreateType="twoGbMaxExtentSparse"\nparentFileNameHint="..\\\\base\\\\base.vmdk"\n\n' +
        '# Extent description\nRW 4194304 SPARSE "d-s001.vmdk"\nRDONLY 2048 FLAT "d-flat.vmdk" 63\nRW 1024 ZERO\n\n#DDB\nddb.adapterType = "ide"\n\0\0\0garbage',
    );
    expect(d).toEqual({
      cid: 'e4d71bd0',
      parentCid: 'bf26b205',
      createType: 'twoGbMaxExtentSparse',
      parentFileNameHint: '..\\\\base\\\\base.vmdk',
      extents: [
        { access: 'RW', sectors: 4194304, type: 'SPARSE', file: 'd-s001.vmdk', offset: 0 },
        { access: 'RDONLY', sectors: 2048, type: 'FLAT', file: 'd-flat.vmdk', offset: 63 },
        { access: 'RW', sectors: 1024, type: 'ZERO', file: undefined, offset: 0 },
      ],
    });
    expect(parseVmdkDescriptor('CID=1\nparentCID=ffffffff\nRW 1 FLAT "a" 0').parentCid).toBeUndefined();
  });

  it('refuses hostile descriptors with the line at fault', () => {
    expect(() => parseVmdkDescriptor('RW 99999999999999999999 FLAT "a" 0')).toThrow(/line 1: extent size or offset out of range/);
    expect(() => parseVmdkDescriptor('version=1\nRW 10 SPARSE')).toThrow(/line 2: a SPARSE extent must name its file/);
    expect(() => parseVmdkDescriptor('RW ten FLAT "a"')).toThrow(/line 1: unreadable extent/);
    expect(() => parseVmdkDescriptor('RW 1 ZERO\n'.repeat(MAX_EXTENTS + 1))).toThrow(/more than 8192 extents/);
  });
});

/**
 * VMDK layouts and snapshots made by qemu-img and qemu-io (independent of gptdoctor's code):
 * gptdoctor must read every byte as `qemu-img convert -O raw` does.
 */
describe.runIf(haveTools('qemu-img', 'qemu-io', 'sgdisk'))('VMDK extents and snapshots', () => {
  const dir = tempDir();
  afterAll(() => dir.cleanup());

  async function readAll(source: BlockSource): Promise<Uint8Array> {
    const out = new Uint8Array(source.size);
    for (let at = 0; at < source.size; at += 8 << 20) out.set(await source.read(at, 8 << 20), at);
    return out;
  }
  function qemuRaw(image: string): Uint8Array {
    const out = `${image}.as-raw`;
    run('qemu-img', ['convert', '-O', 'raw', image, out]);
    const bytes = new Uint8Array(readFileSync(out));
    rmSync(out);
    return bytes;
  }

  it('a 5 GiB disk split into 2 GiB extents (flat and sparse) has its backup GPT in the last extent', async () => {
    const raw = join(dir.path, 'big.raw');
    writeFileSync(raw, '');
    truncateSync(raw, 5 * 1024 ** 3);
    run('sgdisk', ['-n', '1:2048:+100M', '-t', '1:EF00', '-n', '2:0:0', '-t', '2:8300', raw]);
    const rawSize = 5 * 1024 ** 3;
    const expectedAt = (offset: number, length: number): Uint8Array => {
      const fd = openSync(raw, 'r');
      const bytes = new Uint8Array(length);
      readSync(fd, bytes, 0, length, offset);
      closeSync(fd);
      return bytes;
    };
    for (const subformat of ['twoGbMaxExtentFlat', 'twoGbMaxExtentSparse']) {
      const vmdk = join(dir.path, `big-${subformat}.vmdk`);
      run('qemu-img', ['convert', '-f', 'raw', '-O', 'vmdk', '-o', `subformat=${subformat}`, raw, vmdk]);
      const source = await openDisk(vmdk);
      try {
        expect(source.containerInfo).toMatchObject({ createType: subformat, extents: 3 });
        expect(source.size).toBe(rawSize);
        // The GPT areas and the reads that cross the 2 GiB extent boundaries.
        for (const [offset, length] of [[0, 34 * 512], [rawSize - 33 * 512, 33 * 512], [2 * 1024 ** 3 - 4096, 8192], [4 * 1024 ** 3 - 512, 1024]] as const) {
          expect(sha256(await source.read(offset, length)), `${subformat} @${offset}`).toBe(sha256(expectedAt(offset, length)));
        }
      } finally {
        await source.close();
      }
      const report = await inspectDisk(vmdk);
      expect(report.partitions.map((p) => p.typeName)).toEqual(['EFI system partition', 'Linux filesystem']);
      expect(report.backup.valid).toBe(true);
    }
  });

  it('a snapshot reads through its parent: the GPT fixed in the child, a grain zeroed in the child, the rest from the parent', async () => {
    const raw = fixtureFile('windows-esp-basic', dir.path);
    const base = join(dir.path, 'base.vmdk');
    run('qemu-img', ['convert', '-f', 'raw', '-O', 'vmdk', raw, base]);
    // A grain of data in the parent that the child will zero.
    const zeroed = 140 * 1024 * 1024;
    run('qemu-io', ['-f', 'vmdk', '-c', `write -q -P 0x77 ${zeroed} 65536`, base]);
    const child = join(dir.path, 'child.vmdk');
    run('qemu-img', ['create', '-q', '-f', 'vmdk', '-o', 'zeroed_grain=on', '-b', 'base.vmdk', '-F', 'vmdk', child]);
    // The fix, made by sgdisk on a raw copy, and its changed sectors written into the child.
    const fixed = join(dir.path, 'fixed.raw');
    writeFileSync(fixed, readFileSync(raw));
    run('sgdisk', ['-t', '1:EF00', fixed]);
    const size = readFileSync(fixed).length;
    for (const [offset, length] of [[512, 33 * 512], [size - 33 * 512, 33 * 512]] as const) {
      const piece = join(dir.path, `piece-${offset}`);
      execFileSync('dd', [`if=${fixed}`, `of=${piece}`, 'bs=512', `skip=${offset / 512}`, `count=${length / 512}`, 'status=none']);
      run('qemu-io', ['-f', 'vmdk', '-c', `write -q -s ${piece} ${offset} ${length}`, child]);
    }
    // The same grain zeroed in the child: a zeroed-grain table entry, no data, and not the parent's.
    run('qemu-io', ['-f', 'vmdk', '-c', `write -q -z ${zeroed} 65536`, child]);

    const expected = qemuRaw(child);
    const source = await openDisk(child);
    try {
      expect(source.containerInfo).toMatchObject({ createType: 'monolithicSparse', parent: base });
      const all = await readAll(source);
      expect(sha256(all)).toBe(sha256(expected));
      expect(all.subarray(zeroed, zeroed + 65536).every((b) => b === 0)).toBe(true);
      expect(all.subarray(0, 512)).toEqual(new Uint8Array(readFileSync(raw).subarray(0, 512))); // from the parent
    } finally {
      await source.close();
    }
    expect(execFileSync('sgdisk', ['-i', '1', fixed], { encoding: 'utf8' })).toMatch(/C12A7328-F81F-11D2-BA4B-00A0C93EC93B/);
    const parent = await openDisk(base);
    expect((await parent.read(zeroed, 4))).toEqual(new Uint8Array([0x77, 0x77, 0x77, 0x77]));
    await parent.close();
    expect((await checkDisk(base)).findings.map((f) => f.code)).toContain('esp-type');
    expect((await checkDisk(child)).findings.map((f) => f.code)).not.toContain('esp-type');

    // The parent moved: the child says so and --parent finds it; a loop is refused.
    mkdirSync(join(dir.path, 'elsewhere'));
    const moved = join(dir.path, 'elsewhere', 'base.vmdk');
    renameSync(base, moved);
    let r = gptdoctor(['check', '--json', child]);
    expect(r.status).toBe(2);
    expect(JSON.parse(r.stdout).error).toMatchObject({ code: 'ENOENT', message: expect.stringMatching(/its parent was not found \(it names "base\.vmdk"\); give it with --parent PATH/) });
    r = gptdoctor(['check', '--json', '--parent', moved, child]);
    expect(r.status).toBe(0);
    r = gptdoctor(['check', '--json', '--parent', child, child]);
    expect(r.status).toBe(2);
    expect(JSON.parse(r.stdout).error.message).toMatch(/backing chain loops/);
    renameSync(moved, base);

    // Writing to the parent after the snapshot gives it a new CID: the chain is refused.
    run('qemu-io', ['-f', 'vmdk', '-c', 'write -q -P 0x55 104857600 512', base]);
    r = gptdoctor(['inspect', '--json', child]);
    expect(r.status).toBe(2);
    expect(JSON.parse(r.stdout).error).toMatchObject({ code: 'EFORMAT', message: expect.stringMatching(/has CID [0-9a-f]+, but this snapshot was taken of CID [0-9a-f]+: the parent changed after the snapshot/) });
  });

  it('refuses what it cannot read: a missing extent file, NOACCESS and ESXi snapshot extents, a wrong extent size', async () => {
    const raw = fixtureFile('linux', dir.path);
    const vmdk = join(dir.path, 'split.vmdk');
    run('qemu-img', ['convert', '-f', 'raw', '-O', 'vmdk', '-o', 'subformat=twoGbMaxExtentSparse', raw, vmdk]);
    const descriptor = readFileSync(vmdk, 'latin1');
    const extentFile = /SPARSE "([^"]+)"/.exec(descriptor)![1]!;
    const variants: Array<[string, string, RegExp]> = [
      ['missing', descriptor.replace(extentFile, 'gone-s001.vmdk'), /its extent file "gone-s001\.vmdk" is missing/],
      ['noaccess', descriptor.replace(/^RW /m, 'NOACCESS '), /extent 1 \(SPARSE .*\) is marked NOACCESS/],
      ['vmfssparse', descriptor.replace('SPARSE', 'VMFSSPARSE'), /VMFSSPARSE extents \(ESXi snapshots, raw device mappings\) are not supported/],
      ['size', descriptor.replace(/^RW (\d+)/m, (_, n: string) => `RW ${Number(n) * 2}`), /holds \d+ sectors, but the descriptor says \d+/],
    ];
    for (const [name, text, message] of variants) {
      const file = join(dir.path, `${name}.vmdk`);
      writeFileSync(file, text, 'latin1');
      const r = gptdoctor(['inspect', '--json', file]);
      expect(r.status, name).toBe(2);
      expect(JSON.parse(r.stdout).error.message, name).toMatch(message);
    }
    // A descriptor of implausible size is not read at all.
    const huge = join(dir.path, 'huge.vmdk');
    writeFileSync(huge, `# Disk DescriptorFile\n${' '.repeat(2 * 1024 * 1024)}`);
    expect(JSON.parse(gptdoctor(['inspect', '--json', huge]).stdout).error.message).toMatch(/a VMDK descriptor of \d+ bytes is implausible/);
  });
});
