import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { inspectDisk } from '../src/api.js';
import { FileSource } from '../src/disk/file-source.js';
import { findCandidates } from '../src/recover/candidates.js';
import { gptdoctor } from './helpers/cli.js';
import { fixtureFile, sha256 } from './helpers/images.js';
import { canUseLoop, haveTools, run, runAll, tempDir, withLoop } from './helpers/tools.js';

interface RecoverJson {
  currentTable: string;
  candidates: Array<{ rank: number; sectorSize: number; basis: string; evidence: string[]; sameAsDisk: boolean; differencesFromDisk: string[]; headers: Array<{ offset: number; sha256: string; entriesOffset: number; entriesSha256: string }>; partitions: Array<{ index: number; type: string; guid: string; firstLba: number; lastLba: number; attributes: string; name: string }> }>;
}

const zero = (file: string, offset: number, length: number): void => {
  const bytes = readFileSync(file);
  bytes.fill(0, offset, offset + length);
  writeFileSync(file, bytes);
};
const layout = (parts: RecoverJson['candidates'][number]['partitions']): unknown[] => parts.map(({ index, type, guid, firstLba, lastLba, attributes, name }) => ({ index, type, guid, firstLba, lastLba, attributes, name }));

describe.runIf(haveTools('sgdisk', 'sfdisk'))('recover', () => {
  const dir = tempDir();
  afterAll(() => dir.cleanup());

  async function recoverAndApply(file: string, originalParts: unknown[], expectBasis: string): Promise<RecoverJson> {
    const before = sha256(readFileSync(file));
    const r = gptdoctor(['recover', '--json', file]);
    expect(r.status, r.stderr).toBe(0);
    expect(sha256(readFileSync(file))).toBe(before); // hunting never writes
    const found = JSON.parse(r.stdout) as RecoverJson;
    expect(found.candidates[0]!.basis).toBe(expectBasis);
    expect(layout(found.candidates[0]!.partitions)).toEqual(originalParts);
    const apply = gptdoctor(['recover', file, '--apply', '1', '--yes']);
    expect(apply.status, apply.stderr).toBe(0);
    expect(runAll('sgdisk', ['-v', file]).output).toMatch(/No problems found/);
    expect(layout((await inspectDisk(file)).partitions)).toEqual(originalParts);
    return found;
  }

  it('both headers damaged, arrays intact: restores the entries byte for byte', async () => {
    const file = fixtureFile('linux', dir.path);
    const original = layout((await inspectDisk(file)).partitions);
    const size = readFileSync(file).length;
    zero(file, 512, 512);
    zero(file, size - 512, 512);
    const found = await recoverAndApply(file, original, 'array');
    expect(found.candidates[0]!.differencesFromDisk).toEqual(['the disk has no valid partition table now']);
  });

  it('gives the offset and SHA-256 of every header and array it vouches with', () => {
    const file = fixtureFile('data', dir.path);
    const bytes = readFileSync(file);
    const r = JSON.parse(gptdoctor(['recover', '--json', file]).stdout) as RecoverJson;
    const sha = (o: number, n: number): string => createHash('sha256').update(bytes.subarray(o, o + n)).digest('hex');
    expect(r.candidates[0]!.headers).toHaveLength(2);
    for (const h of r.candidates[0]!.headers) {
      expect(h.sha256).toBe(sha(h.offset, 512));
      expect(h.entriesSha256).toBe(sha(h.entriesOffset, 128 * 128));
    }
  });

  it('everything but the backup entry array zeroed', async () => {
    const file = fixtureFile('linux', dir.path);
    const original = layout((await inspectDisk(file)).partitions);
    const size = readFileSync(file).length;
    zero(file, 0, 34 * 512);
    zero(file, size - 512, 512);
    await recoverAndApply(file, original, 'array');
  });

  it('a grown disk whose primary is damaged: the orphaned backup at the old end wins', async () => {
    const file = fixtureFile('grown', dir.path);
    const original = layout((await inspectDisk(file)).partitions);
    zero(file, 0, 34 * 512); // MBR, primary header and primary array gone
    const found = await recoverAndApply(file, original, 'headers');
    expect(found.candidates[0]!.evidence.join(' ')).toMatch(/orphaned backup header at LBA 131071/);
    expect(found.candidates[0]!.differencesFromDisk).toEqual(['the disk has no valid partition table now']);
  });

  it('a 4096-byte table in an image read as 512 is ranked first, at 4096', async () => {
    const file = fixtureFile('sector4k', dir.path);
    const original = layout((await inspectDisk(file)).partitions);
    const r = JSON.parse(gptdoctor(['recover', '--json', file]).stdout) as RecoverJson;
    expect(r.candidates[0]).toMatchObject({ sectorSize: 4096, basis: 'headers', sameAsDisk: true });
    expect(layout(r.candidates[0]!.partitions)).toEqual(original);
  });

  it.runIf(canUseLoop())('a damaged 4096-byte table: the backup found at 4096 is applied, as sgdisk on a 4K loop device confirms', async () => {
    const file = fixtureFile('sector4k', dir.path);
    const original = layout((await inspectDisk(file)).partitions);
    zero(file, 4096, 4096); // the primary header (LBA 1 at 4096 bytes per sector)
    const found = await recoverAndApply4k(file);
    expect(found.candidates[0]).toMatchObject({ sectorSize: 4096, basis: 'headers' });
    expect(layout((await inspectDisk(file)).partitions)).toEqual(original);
    withLoop(file, 4096, (device) => expect(runAll('sgdisk', ['-v', device]).output).toMatch(/No problems found/));
  });

  async function recoverAndApply4k(file: string): Promise<RecoverJson> {
    const found = JSON.parse(gptdoctor(['recover', '--json', file]).stdout) as RecoverJson;
    // The backup copy is a valid GPT: recover writes over it only when told to (repair is the tool).
    const before = sha256(readFileSync(file));
    const refused = gptdoctor(['recover', file, '--apply', '1', '--yes']);
    expect(refused.status).toBe(2);
    expect(refused.stderr).toMatch(/already has a valid GPT \(4096-byte sectors, the backup copy valid.*gptdoctor repair .*--replace-table/s);
    expect(sha256(readFileSync(file))).toBe(before);
    const apply = gptdoctor(['recover', file, '--apply', '1', '--yes', '--replace-table']);
    expect(apply.status, apply.stderr).toBe(0);
    return found;
  }

  it('after sgdisk -e, the stale backup header mid-disk is shown as evidence', () => {
    const file = fixtureFile('grown', dir.path);
    run('sgdisk', ['-e', file]);
    const r = JSON.parse(gptdoctor(['recover', '--json', file]).stdout) as RecoverJson;
    expect(r.candidates[0]!.sameAsDisk).toBe(true);
    expect(r.candidates.flatMap((c) => c.evidence).join(' ')).toMatch(/stale backup header at LBA 131071/);
  });

  it('says so when nothing is left', () => {
    const file = fixtureFile('zeros', dir.path);
    const r = gptdoctor(['recover', file]);
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/no GPT header or plausible entry array/);
  });
});

describe.runIf(haveTools('sfdisk', 'sgdisk', 'mkfs.fat', 'mkntfs', 'mkfs.ext4', 'mkswap'))('recover from filesystems alone', () => {
  const dir = tempDir();
  afterAll(() => dir.cleanup());

  it('outlines FAT, NTFS, ext4 and swap partitions when every table is gone', async () => {
    const file = `${dir.path}/fs-only.img`;
    writeFileSync(file, '');
    run('truncate', ['-s', '128M', file]);
    run('sfdisk', ['--quiet', file], 'label: gpt\nstart=2048, size=64MiB, type=U\nsize=24MiB, type=EBD0A0A2-B9E5-4433-87C0-68B6B72699C7\nsize=16MiB, type=L\nsize=8MiB, type=S\n');
    const parts = (await inspectDisk(file)).partitions;
    const put = (i: number, make: (f: string) => void): void => {
      const p = parts[i]!;
      const fs = `${dir.path}/p${i}`;
      writeFileSync(fs, '');
      run('truncate', ['-s', String(p.size), fs]);
      make(fs);
      run('dd', [`if=${fs}`, `of=${file}`, 'bs=512', `seek=${p.firstLba}`, 'conv=notrunc,sparse', 'status=none']);
    };
    put(0, (f) => {
      run('mkfs.fat', ['-F', '32', '-s', '1', f]);
      const env = { ...process.env, MTOOLS_SKIP_CHECK: '1' };
      execFileSync('mmd', ['-i', f, '::/EFI', '::/EFI/Microsoft', '::/EFI/Microsoft/Boot'], { env });
      writeFileSync(`${dir.path}/bootmgfw.efi`, 'MZ');
      execFileSync('mcopy', ['-i', f, `${dir.path}/bootmgfw.efi`, '::/EFI/Microsoft/Boot/bootmgfw.efi'], { env });
    });
    put(1, (f) => run('mkntfs', ['-Q', '-F', '-q', '-s', '512', f]));
    put(2, (f) => run('mkfs.ext4', ['-q', '-F', f]));
    put(3, (f) => run('mkswap', [f]));
    const size = readFileSync(file).length;
    zero(file, 0, 34 * 512);
    zero(file, size - 33 * 512, 33 * 512);

    const r = JSON.parse(gptdoctor(['recover', '--json', file]).stdout) as RecoverJson;
    expect(r.candidates[0]!.basis).toBe('filesystems');
    const extents = (list: Array<{ firstLba: number; lastLba: number }>): unknown[] => list.map(({ firstLba, lastLba }) => [firstLba, lastLba]);
    expect(extents(r.candidates[0]!.partitions)).toEqual(extents(parts));
    // A table outlined from filesystems is a guess: written only when asked for by name.
    const before = sha256(readFileSync(file));
    const refused = gptdoctor(['recover', file, '--apply', '1', '--yes']);
    expect(refused.status).toBe(2);
    expect(refused.stderr).toMatch(/rebuilt from filesystems alone.*types are guessed.*partition GUID is new.*--replace-table/s);
    expect(sha256(readFileSync(file))).toBe(before);
    const dry = gptdoctor(['recover', file, '--apply', '1', '--dry-run', '--replace-table']);
    expect(dry.stdout).toMatch(/outlined from filesystems: no header or entry array survived/);
    expect(dry.stdout).toMatch(/partition 1: slot: empty → LBA 2048\.\.133119/);
    expect(dry.stdout).toMatch(/Note: Types are guessed: partition 1 EFI system partition \(from a FAT volume holding .*bootmgfw\.efi\), partition 2 Microsoft basic data \(from its ntfs filesystem\)/);
    expect(dry.stdout).toMatch(/Every partition GUID is new .*PARTUUID= references .* break/);
    expect(gptdoctor(['recover', file, '--apply', '1', '--yes', '--replace-table']).status).toBe(0);
    expect(runAll('sgdisk', ['-v', file]).output).toMatch(/No problems found/);
    const after = (await inspectDisk(file)).partitions;
    expect(extents(after)).toEqual(extents(parts));
    expect(after.map((p) => p.filesystem)).toEqual(['fat32', 'ntfs', 'ext4', 'swap']);
    // The FAT volume with \EFI\Microsoft\Boot\bootmgfw.efi came back as the ESP, the rest as guessed.
    expect(r.candidates[0]!.evidence).toContainEqual('partition 1 is a FAT volume with \\EFI\\Microsoft\\Boot\\bootmgfw.efi: typed EFI System Partition');
    expect(after.map((p) => p.typeName)).toEqual(['EFI system partition', 'Microsoft basic data', 'Linux filesystem', 'Linux swap']);
  });
});

describe.runIf(haveTools('sfdisk'))('the hunt skips sparse holes', () => {
  const dir = tempDir();
  afterAll(() => dir.cleanup());

  it('hunts a 200 GiB sparse image by reading only its data', async () => {
    const file = `${dir.path}/huge.img`;
    writeFileSync(file, '');
    run('truncate', ['-s', '200G', file]);
    run('sfdisk', ['--quiet', file], 'label: gpt\ntype=L\n');
    const source = await FileSource.open(file);
    const candidates = await findCandidates(source);
    await source.close();
    expect(candidates[0]).toMatchObject({ basis: 'headers', sectorSize: 512 });
    expect(candidates[0]!.headers.map((h) => h.role)).toEqual(['primary', 'backup']);
    expect(source.bytesRead).toBeLessThan(64 * 1024 * 1024);
  });
});
