import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { gptdoctor } from './helpers/cli.js';
import { afterAll, describe, expect, it } from 'vitest';
import { fixtureBytes, sfdiskImage } from './helpers/images.js';
import { haveTools, tempDir } from './helpers/tools.js';

describe.runIf(haveTools('sfdisk'))('scan of a directory of 1,000 images', () => {
  const dir = tempDir();
  afterAll(() => dir.cleanup());

  it('prints 1,000 JSON lines and a correct summary, in one process', () => {
    const images = join(dir.path, 'images');
    mkdirSync(join(images, 'nested'), { recursive: true });
    // 1 MiB GPT disks written by sfdisk: most clean, some with overlapping partitions.
    const clean = sfdiskImage('label: gpt\nfirst-lba: 34\nstart=40, size=1000, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4\n', 1);
    const broken = sfdiskImage('label: gpt\nfirst-lba: 34\nstart=34, size=1000, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4\nstart=2048, size=10, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4\n', 2)
      .subarray(0, 1024 * 1024); // cut short: the backup is gone
    const flagship = fixtureBytes('windows-esp-basic');
    for (let i = 0; i < 980; i++) writeFileSync(join(images, i % 2 ? 'nested' : '.', `clean-${i}.img`), clean);
    for (let i = 0; i < 10; i++) writeFileSync(join(images, `cut-${i}.img`), broken);
    for (let i = 0; i < 5; i++) writeFileSync(join(images, `esp-${i}.img`), flagship);
    for (let i = 0; i < 5; i++) writeFileSync(join(images, `container-${i}.vhdx`), Buffer.concat([Buffer.from('vhdxfile'), Buffer.alloc(4096)]));

    const r = gptdoctor(['scan', '--json', '--jobs', '16', images]);
    const all = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { late?: string; source: { path: string }; ok?: boolean; error?: { code: string }; findings?: Array<{ code: string }> });
    const lines = all.filter((l) => !l.late);
    expect(lines).toHaveLength(1000);
    // Copies of three disks: the 980, the 10 and the 5 each share a disk GUID (and partition GUIDs),
    // which the late lines after the 1,000 reports say; the 5 unreadable containers have none.
    const late = all.slice(1000);
    expect(late.every((l) => l.late === 'identity-collisions')).toBe(true);
    expect(late).toHaveLength(995);
    expect(new Set(lines.map((l) => l.source.path)).size).toBe(1000);
    expect(lines.filter((l) => l.ok === true)).toHaveLength(980);
    expect(lines.filter((l) => l.findings?.some((f) => f.code === 'image-truncated'))).toHaveLength(10);
    expect(lines.filter((l) => l.findings?.some((f) => f.code === 'esp-type'))).toHaveLength(5);
    expect(lines.filter((l) => l.error?.code === 'EFORMAT')).toHaveLength(5);
    expect(r.stderr).toMatch(/Scanned 1000 images/);
    expect(r.stderr).toMatch(/ok\s+0\n\s+with warnings\s+980/); // clean, but copies of one another
    expect(r.stderr).toMatch(/3\s+disk GUIDs shared \(995 images\)/);
    expect(r.stderr).toMatch(/with errors\s+15/);
    expect(r.stderr).toMatch(/unreadable\s+5/);
    expect(r.stderr).toMatch(/10\s+image-truncated/);
    expect(r.status).toBe(2);
  });
});

describe.runIf(haveTools('qemu-img'))('scan of a mixed image library', () => {
  const dir = tempDir();
  afterAll(() => dir.cleanup());

  it('scans each VMDK once through its descriptor, leaves out its extent files and undo journals, and still scans an extent named outright', () => {
    const library = join(dir.path, 'library');
    mkdirSync(library);
    const raw = join(dir.path, 'esp.raw');
    writeFileSync(raw, fixtureBytes('windows-esp-basic'));
    for (const [name, args] of [
      ['split.vmdk', ['-O', 'vmdk', '-o', 'subformat=twoGbMaxExtentSparse']],
      ['flat.vmdk', ['-O', 'vmdk', '-o', 'subformat=monolithicFlat']],
      ['disk.vhdx', ['-O', 'vhdx']],
      ['disk.qcow2', ['-O', 'qcow2']],
    ] as const) {
      execFileSync('qemu-img', ['convert', '-f', 'raw', ...args, raw, join(library, name)]);
    }
    writeFileSync(join(library, 'disk.vhdx.gptdoctor-undo-20261124T120000Z.json'), '{}');
    writeFileSync(join(library, 'gptdoctor-undo-sdb-20261124T120000Z.json'), '{}'); // a device's journal
    const r = gptdoctor(['scan', '--json', library]);
    // Four containers of one raw disk: their identity collisions follow as late lines.
    const paths = r.stdout.trim().split('\n').map((l) => (JSON.parse(l) as { late?: string; source: { path: string; format: string }; findings: Array<{ code: string }> })).filter((l) => !l.late);
    expect(paths.map((l) => basename(l.source.path))).toEqual(['disk.qcow2', 'disk.vhdx', 'flat.vmdk', 'split.vmdk']);
    expect(paths.map((l) => l.source.format)).toEqual(['qcow2', 'vhdx', 'vmdk', 'vmdk']);
    for (const line of paths) expect(line.findings.map((f) => f.code)).toContain('esp-type');
    expect(r.stderr).toMatch(/Left out 4 files that belong to other images/);
    expect(r.stderr).toMatch(/flat-flat\.vmdk: an extent of flat\.vmdk/);
    expect(r.stderr).toMatch(/split-s001\.vmdk: an extent of split\.vmdk/);
    expect(r.stderr).toMatch(/disk\.vhdx\.gptdoctor-undo-20261124T120000Z\.json: a gptdoctor undo journal/);
    expect(r.stderr).toMatch(/gptdoctor-undo-sdb-20261124T120000Z\.json: a gptdoctor undo journal/);
    expect(r.status).toBe(1);
    const alone = gptdoctor(['scan', '--json', join(library, 'split-s001.vmdk')]);
    expect(alone.stdout.trim().split('\n')).toHaveLength(1);
  });
});
