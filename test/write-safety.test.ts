import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { inspectDisk } from '../src/api.js';
import { gptdoctor } from './helpers/cli.js';
import { fixtureFile, sha256File } from './helpers/images.js';
import { haveTools, run, runAll, tempDir } from './helpers/tools.js';

/**
 * Write paths never make a disk worse (issue 14): recover never replaces a valid table with a
 * guess unless told to, repair never copies a wrong copy over a sound one, plans say what they
 * do, refusals come before the plan, and a person at the prompt can always back out.
 */

const BIN = new URL('../bin/gptdoctor.js', import.meta.url).pathname;
const ANSWER = new URL('./helpers/answer-prompt.py', import.meta.url).pathname;

interface RecoverJson {
  currentTable: string;
  candidates: Array<{ rank: number; basis: string; evidence: string[]; differencesFromDisk: string[]; partitions: unknown[] }>;
}

/** A partition image made by a real mkfs, written into `disk` at `lba` (512-byte sectors). */
function putFilesystem(dir: string, disk: string, lba: number, bytes: number, mkfs: (file: string) => void): void {
  const fs = join(dir, `fs-${lba}`);
  writeFileSync(fs, '');
  run('truncate', ['-s', String(bytes), fs]);
  mkfs(fs);
  run('dd', [`if=${fs}`, `of=${disk}`, 'bs=512', `seek=${lba}`, 'conv=notrunc,sparse', 'status=none']);
}

describe.runIf(haveTools('sgdisk', 'sfdisk', 'mkfs.fat', 'mkfs.ext4', 'qemu-img', 'python3'))('write paths never make a disk worse', () => {
  const dir = tempDir();
  afterAll(() => dir.cleanup());

  it('recover --sector-size 4096 on a healthy 512-byte image finds its table and refuses to write over it', () => {
    const file = fixtureFile('windows', dir.path);
    const before = sha256File(file);
    const found = JSON.parse(gptdoctor(['recover', '--json', '--sector-size', '4096', file]).stdout) as RecoverJson;
    expect(found.currentTable).toBe('primary');
    expect(found.candidates[0]).toMatchObject({ basis: 'headers' });
    expect(found.candidates.some((c) => c.basis === 'filesystems')).toBe(false);
    const r = gptdoctor(['recover', '--sector-size', '4096', file, '--apply', '1', '--yes']);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe(''); // refused before any plan is shown
    expect(r.stderr).toMatch(/refusing to write candidate 1\. The disk already has a valid GPT \(512-byte sectors, both copies valid, 4 partitions\).*--replace-table\. Nothing was written\./);
    expect(sha256File(file)).toBe(before);
  });

  it('recover on an MBR disk (sfdisk, FAT32 + an ext4 to the last sector) shows what it would drop and refuses without --replace-mbr', () => {
    const file = join(dir.path, 'mbr.img');
    writeFileSync(file, '');
    run('truncate', ['-s', '64M', file]);
    run('sfdisk', ['--quiet', file], 'label: dos\nstart=2048, size=40MiB, type=c\nstart=83968, type=83\n');
    putFilesystem(dir.path, file, 2048, 40 * 1024 * 1024, (f) => run('mkfs.fat', ['-F', '32', '-s', '1', f]));
    putFilesystem(dir.path, file, 83968, (131072 - 83968) * 512, (f) => run('mkfs.ext4', ['-q', '-F', f]));
    const before = sha256File(file);

    const found = JSON.parse(gptdoctor(['recover', '--json', file]).stdout) as RecoverJson;
    const outline = found.candidates[0]!;
    expect(outline.basis).toBe('filesystems');
    expect(outline.partitions).toHaveLength(1);
    expect(outline.evidence.join('\n')).toMatch(/left out: ext at byte 42991616 .* ends at LBA 131071, inside the last 33 sectors the backup GPT needs/);
    expect(outline.differencesFromDisk).toEqual([
      'the disk has no valid GPT; its MBR shows 2 partitions',
      'MBR partition in slot 2 (type 0x83, LBA 83968..131071) is not in the candidate',
    ]);

    for (const extra of [[], ['--replace-table'], ['--replace-mbr']]) {
      const r = gptdoctor(['recover', file, '--apply', '1', '--yes', ...extra]);
      expect(r.status, extra.join(' ')).toBe(2);
      expect(r.stderr).toMatch(/Nothing was written\./);
    }
    expect(gptdoctor(['recover', file, '--apply', '1', '--yes']).stderr).toMatch(/LBA 0 holds an MBR partition table.*slot 2 .* is not in the candidate.*rebuilt from filesystems alone.*--replace-table --replace-mbr/s);
    expect(sha256File(file)).toBe(before);
    // Asked for by name, it writes, and the plan said what goes.
    const dry = gptdoctor(['recover', file, '--apply', '1', '--dry-run', '--replace-table', '--replace-mbr']);
    expect(dry.stdout).toMatch(/MBR: partition: MBR partition in slot 2 \(type 0x83, LBA 83968\.\.131071\) → not in the new table/);
    expect(dry.stdout).toMatch(/LBA 0: MBR: MBR partition table → protective MBR/);
  });

  it('recover offers nothing on an MBR disk with no filesystem to outline (never an empty table)', () => {
    const file = join(dir.path, 'mbr-empty.img');
    writeFileSync(file, '');
    run('truncate', ['-s', '16M', file]);
    run('sfdisk', ['--quiet', file], 'label: dos\nstart=2048, type=83\n');
    const r = gptdoctor(['recover', file]);
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/no GPT header or plausible entry array/);
    expect(gptdoctor(['recover', file, '--apply', '1', '--yes']).status).toBe(2);
  });

  it('swapped ESP and Windows types: both partitions get a fix, nothing is told to reformat, repair fixes both', async () => {
    const file = fixtureFile('windows', dir.path).replace(/windows\.img$/, 'swapped.img');
    run('mv', [join(dir.path, 'windows.img'), file]);
    run('sgdisk', ['-t1:0700', '-t3:EF00', file]);
    const check = JSON.parse(gptdoctor(['check', '--json', file]).stdout) as { findings: Array<{ code: string; partition?: number; message: string; fix?: string }> };
    const byCode = (code: string) => check.findings.find((f) => f.code === code);
    expect(byCode('esp-type')).toMatchObject({ partition: 1, fix: `gptdoctor set ${file} 1 --type esp` });
    expect(byCode('esp-not-fat')).toMatchObject({ partition: 3, fix: `gptdoctor set ${file} 3 --type 0700` });
    expect(byCode('esp-not-fat')!.message).toMatch(/holds an NTFS filesystem.*not an ESP to reformat/);
    expect(check.findings.map((f) => f.message).join('\n')).not.toMatch(/reformat it|format it FAT32/);
    const dry = gptdoctor(['repair', '--dry-run', file]);
    expect(dry.stdout).toMatch(/partition 1: type \(esp-type\): Microsoft basic data .* → EFI system partition/);
    expect(dry.stdout).toMatch(/partition 3: type \(esp-not-fat\): EFI system partition .* → Microsoft basic data/);
    expect(gptdoctor(['repair', '--yes', file]).status).toBe(0);
    expect((JSON.parse(gptdoctor(['check', '--json', file]).stdout) as { ok: boolean }).ok).toBe(true);
    expect(runAll('sgdisk', ['-v', file]).output).toMatch(/No problems found/);
    expect((await inspectDisk(file)).partitions.map((p) => p.typeName)).toEqual(['EFI system partition', 'Microsoft reserved', 'Microsoft basic data', 'Windows RE']);
  });

  /** One stray byte turns empty slot 94 into a partition at LBA 0..0; the primary's CRCs are recomputed. */
  function strayEntry(file: string, slot = 94): void {
    run('python3', [new URL('../scripts/gpt-bytes.py', import.meta.url).pathname, 'entry-primary', file, String(slot), 'type', '00000001-0000-0000-0000-000000000000']);
  }

  it('repair never copies a CRC-valid but wrong primary over a clean backup', async () => {
    const file = fixtureFile('linux', dir.path);
    const original = (await inspectDisk(file)).partitions;
    strayEntry(file);
    expect((await inspectDisk(file)).primary.valid).toBe(true); // the CRCs check out: only the entries tell
    const dry = gptdoctor(['repair', '--dry-run', file]);
    expect(dry.stdout).toMatch(/primary GPT: header and entries: CRC-valid but unsound \(partition 94 \(LBA 0\.\.0\) lies outside the usable range 2048\.\.262110\) → rewritten from the backup/);
    expect(dry.stdout).toMatch(/primary GPT, partition 94: slot: LBA 0\.\.0.* → empty/);
    expect(dry.stdout).not.toMatch(/backup (entries|header)/);
    expect(gptdoctor(['repair', '--yes', file]).status).toBe(0);
    expect((JSON.parse(gptdoctor(['check', '--json', '--profile', 'structure', file]).stdout) as { findings: unknown[] }).findings).toEqual([]);
    expect(runAll('sgdisk', ['-v', file]).output).toMatch(/No problems found/);
    expect((await inspectDisk(file)).partitions).toEqual(original);
  });

  it('repair refuses, showing why, when no copy is sound; set refuses to write a table with overlapping entries', () => {
    const file = fixtureFile('overlap', dir.path);
    const size = statSync(file).size;
    const bytes = readFileSync(file);
    bytes.fill(0, size - 512); // the backup header gone: only the overlapping primary is valid
    writeFileSync(file, bytes);
    const before = sha256File(file);
    const check = JSON.parse(gptdoctor(['check', '--json', file]).stdout) as { findings: Array<{ code: string; message: string; fix?: string }> };
    const backupBad = check.findings.find((f) => f.code === 'backup-header-bad')!;
    expect(backupBad.fix).toBeUndefined(); // repair would refuse, so no fix line
    expect(backupBad.message).toMatch(/`gptdoctor repair` cannot run until the partition problems are resolved/);
    const r = gptdoctor(['repair', '--yes', file]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/no copy of the GPT is sound, so repair will not choose one: the primary's entries: partitions 1 and 2 overlap/);
    const set = gptdoctor(['set', file, '1', '--name', 'x', '--yes']);
    expect(set.status).toBe(2);
    expect(sha256File(file)).toBe(before);
  });

  it('repair exits 0 only on a structurally clean result: a duplicate GUID it keeps is left with its fix line and exit 1', () => {
    const file = fixtureFile('guid-duplicate', dir.path);
    const r = gptdoctor(['repair', '--yes', file]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`still has this error:\\n  partition-guid-duplicate: .*\\n    fix: gptdoctor set ${file} 2 --guid random`));
    expect(gptdoctor(['set', file, '2', '--guid', 'random', '--yes']).status).toBe(0);
    expect(gptdoctor(['repair', '--yes', file]).status).toBe(0);
    expect(runAll('sgdisk', ['-v', file]).output).toMatch(/No problems found/);
  });

  it('a cut-short image too small for its partitions: no fix line, the exact size, and following the message works', () => {
    const file = fixtureFile('linux', dir.path);
    run('truncate', ['-s', '100M', file]);
    const check = JSON.parse(gptdoctor(['check', '--json', file]).stdout) as { findings: Array<{ code: string; message: string; fix?: string }> };
    const truncated = check.findings.find((f) => f.code === 'image-truncated')!;
    expect(truncated.fix).toBeUndefined();
    const size = /Extend the image to (\d+) bytes \(`truncate -s \1 /.exec(truncated.message)?.[1];
    expect(size).toBe(String(128 * 1024 * 1024)); // where its header put the backup
    expect(check.findings.filter((f) => f.fix)).toEqual([]);
    run('truncate', ['-s', size!, file]);
    expect(gptdoctor(['repair', '--yes', file]).status).toBe(0);
    expect(runAll('sgdisk', ['-v', file]).output).toMatch(/No problems found/);
  });

  it('two writes in the same second get their own undo files, and undo in reverse restores the image', () => {
    const file = fixtureFile('linux', dir.path);
    const original = sha256File(file);
    const first = JSON.parse(gptdoctor(['set', file, '2', '--name', 'one', '--yes', '--json']).stdout) as { undoFile: string };
    const second = JSON.parse(gptdoctor(['set', file, '2', '--name', 'two', '--yes', '--json']).stdout) as { undoFile: string };
    expect(first.undoFile).not.toBe(second.undoFile);
    expect(first.undoFile).toMatch(/\.gptdoctor-undo-\d{8}T\d{9}Z(-\d+)?\.json$/);
    expect(gptdoctor(['undo', second.undoFile, '--yes']).status).toBe(0);
    expect(gptdoctor(['undo', first.undoFile, '--yes']).status).toBe(0);
    expect(sha256File(file)).toBe(original);
  });

  it('Ctrl-C at the prompt exits 130 and Ctrl-D exits 2, each saying nothing was written', () => {
    const file = fixtureFile('windows-esp-basic', dir.path);
    const before = sha256File(file);
    for (const [key, status] of [['c', 130], ['d', 2]] as const) {
      const r = spawnSync('python3', [ANSWER, key, process.execPath, BIN, 'set', file, '1', '--type', 'esp'], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
      expect(r.status, r.stdout).toBe(status);
      expect(r.stdout).toMatch(/aborted, nothing was written/);
      expect(r.stdout).not.toMatch(/internal error|Aborted with Ctrl/);
    }
    expect(sha256File(file)).toBe(before);
  });

  it('refusals come before the plan: a read-only container, no terminal without --yes, a missing undo directory', () => {
    const raw = fixtureFile('windows-esp-basic', dir.path);
    const qcow2 = raw.replace(/\.img$/, '.qcow2');
    run('qemu-img', ['convert', '-O', 'qcow2', raw, qcow2]);
    const ro = gptdoctor(['set', qcow2, '1', '--type', 'esp', '--yes']);
    expect(ro).toMatchObject({ status: 2, stdout: '' });
    expect(ro.stderr).toMatch(/cannot be written in place: gptdoctor reads qcow2 images but does not write them\. Write a repaired raw copy instead .*--output .*windows-esp-basic-fixed\.img/);
    const noTty = gptdoctor(['set', raw, '1', '--type', 'esp']);
    expect(noTty).toMatchObject({ status: 2, stdout: '' });
    expect(noTty.stderr).toMatch(/refusing to write without confirmation/);
    const noDir = gptdoctor(['set', raw, '1', '--type', 'esp', '--yes', '--undo-file', join(dir.path, 'missing', 'undo.json')]);
    expect(noDir).toMatchObject({ status: 2, stdout: '' });
    expect(noDir.stderr).toMatch(/the directory .*missing for the undo file does not exist\. Nothing was written\./);
  });

  it('--output writes a sparse raw copy and repairs it; the input is untouched, undo applies to the copy', () => {
    const raw = fixtureFile('windows-esp-basic', dir.path);
    const vmdk = raw.replace(/\.img$/, '.vmdk');
    run('qemu-img', ['convert', '-O', 'vmdk', raw, vmdk]);
    const input = sha256File(vmdk);
    const output = join(dir.path, 'repaired.img');
    expect(gptdoctor(['set', vmdk, '1', '--type', 'esp', '--output', output, '--dry-run']).stdout).toMatch(/not made/);
    expect(existsSync(output)).toBe(false);
    const r = JSON.parse(gptdoctor(['set', vmdk, '1', '--type', 'esp', '--output', output, '--yes', '--json']).stdout) as { output: string; undoFile: string; verified: boolean };
    expect(r).toMatchObject({ output, verified: true });
    expect(sha256File(vmdk)).toBe(input);
    expect(statSync(output).size).toBe(statSync(raw).size);
    expect(statSync(output).blocks * 512).toBeLessThan(statSync(output).size / 2); // holes stay holes
    expect(runAll('sgdisk', ['-i', '1', output]).output).toMatch(/EFI system partition/);
    expect(gptdoctor(['undo', r.undoFile, '--yes']).status).toBe(0);
    expect(sha256File(output)).toBe(sha256File(raw)); // the copy, un-fixed, is the VMDK's disk byte for byte
    const again = gptdoctor(['set', vmdk, '1', '--type', 'esp', '--output', output, '--yes']);
    expect(again.status).toBe(2);
    expect(again.stderr).toMatch(/already exists; --output never replaces a file/);
  });
});

describe('a wrong sector size is not damage', () => {
  const dir = tempDir();
  afterAll(() => dir.cleanup());

  it('set and repair with --sector-size 4096 on a 512-byte image refuse and name the right size', () => {
    const file = fixtureFile('windows', dir.path);
    const before = sha256File(file);
    for (const args of [['repair', '--yes'], ['set', '--yes', '--name', 'x']]) {
      const r = gptdoctor([args[0]!, '--sector-size', '4096', file, ...(args[0] === 'set' ? ['1'] : []), ...args.slice(1)]);
      expect(r).toMatchObject({ status: 2, stdout: '' });
      expect(r.stderr).toMatch(/is read with 4096-byte sectors, but its GPT is valid for 512-byte sectors: nothing is damaged\. Use --sector-size 512\. Nothing was written\./);
    }
    expect(sha256File(file)).toBe(before);
  });
});

describe('recover on hostile filesystem outlines', () => {
  const dir = tempDir();
  afterAll(() => dir.cleanup());

  it('an NTFS boot sector with 256-byte sectors (a fractional LBA) is never outlined as a partition, and nothing crashes', () => {
    const file = join(dir.path, 'ntfs256.img');
    const bytes = Buffer.alloc(128 * 1024 * 1024);
    const at = 1024 * 1024;
    bytes.write('NTFS    ', at + 3, 'latin1');
    bytes.writeUInt16LE(256, at + 11);
    bytes.writeBigUInt64LE(362460n, at + 0x28); // (362460 + 1) × 256 bytes: not whole 512-byte sectors
    writeFileSync(file, bytes);
    const r = gptdoctor(['recover', '--json', file]);
    expect(r.stderr).not.toMatch(/internal error|BigInt/);
    expect(r.status).toBe(1); // nothing to offer: the only outline had no partition
    expect(r.stdout).toMatch(/"candidates": \[\]/);
  });
});
