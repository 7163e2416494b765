import { copyFileSync, mkdirSync, openSync, closeSync, writeSync, ftruncateSync, readFileSync, rmSync, writeFileSync, truncateSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkDisk } from '../src/api.js';
import { partitionGuids } from '../src/report/check-report.js';
import { collisionFindings, type CollisionFinding } from '../src/scan/collision-findings.js';
import { IdentityCollisions, MAX_PARTITION_GUIDS_PER_IMAGE } from '../src/scan/identity-collisions.js';
import { imageIdentity } from '../src/scan/image-identity.js';
import { scanDisks } from '../src/scan/scan.js';
import { gptdoctor } from './helpers/cli.js';
import { syntheticDisk } from './helpers/synthetic-gpt.js';
import { haveTools, run, tempDir } from './helpers/tools.js';

/**
 * Identities shared across the images of one scan (disk-guid-collision, partition-guid-collision):
 * images made by sgdisk and sfdisk with chosen GUIDs and signatures, copied with cp as a VM disk
 * is copied, so that the copies collide.
 */

const guid = (n: number): string => `00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`.toUpperCase();

describe('the identity store', () => {
  it('groups disk GUIDs, MBR signatures and partition GUIDs held by two or more images, in first-seen order', () => {
    const store = new IdentityCollisions();
    store.add(0, { diskGuid: guid(1), partitions: [{ index: 1, guid: guid(11) }, { index: 2, guid: guid(12) }] });
    store.add(1, { diskGuid: guid(2), partitions: [{ index: 3, guid: guid(12) }] });
    store.add(2, { diskGuid: guid(1), partitions: [{ index: 1, guid: guid(11) }] });
    store.add(3, { mbrSignature: '0x12345678', partitions: [] });
    store.add(4, { mbrSignature: '0x12345678', partitions: [] });
    // a GUID as a disk GUID in one image and a partition GUID in another is no collision
    store.add(5, { diskGuid: guid(11), partitions: [] });
    expect([...store.groups()]).toEqual([
      { kind: 'disk-guid', value: guid(1), members: [{ image: 0 }, { image: 2 }] },
      { kind: 'mbr-signature', value: '0x12345678', members: [{ image: 3 }, { image: 4 }] },
      { kind: 'partition-guid', value: guid(11), members: [{ image: 0, partition: 1 }, { image: 2, partition: 1 }] },
      { kind: 'partition-guid', value: guid(12), members: [{ image: 0, partition: 2 }, { image: 1, partition: 3 }] },
    ]);
  });

  it('records a GUID an image holds twice once (that is partition-guid-duplicate), and never the zero GUID', () => {
    const store = new IdentityCollisions();
    store.add(0, { partitions: [{ index: 1, guid: guid(7) }, { index: 2, guid: guid(7) }, { index: 3, guid: '00000000-0000-0000-0000-000000000000' }] });
    store.add(1, { partitions: [{ index: 1, guid: '00000000-0000-0000-0000-000000000000' }] });
    expect([...store.groups()]).toEqual([]);
    expect(store.size).toEqual({ values: 1, members: 1 });
  });

  it('keeps at most MAX_PARTITION_GUIDS_PER_IMAGE partition GUIDs of one image', () => {
    const store = new IdentityCollisions();
    store.add(0, { diskGuid: guid(1), partitions: Array.from({ length: 32768 }, (_, i) => ({ index: i + 1, guid: guid(1000 + i) })) });
    expect(store.size).toEqual({ values: 1 + MAX_PARTITION_GUIDS_PER_IMAGE, members: 1 + MAX_PARTITION_GUIDS_PER_IMAGE });
  });

  it('grows by one entry per identity per image: 100,000 images of a disk GUID and 4 partitions hold 500,000 entries', () => {
    const store = new IdentityCollisions();
    for (let i = 0; i < 100_000; i++) store.add(i, { diskGuid: guid(i), partitions: [1, 2, 3, 4].map((p) => ({ index: p, guid: guid(1_000_000 + i * 4 + p) })) });
    expect(store.size).toEqual({ values: 500_000, members: 500_000 });
    expect([...store.groups()]).toEqual([]);
  });
});

describe('collision findings', () => {
  it('name the first 5 other images and count the rest; each image gets one finding per shared value', () => {
    const store = new IdentityCollisions();
    for (let i = 0; i < 8; i++) store.add(i, { diskGuid: guid(1), partitions: [{ index: 2, guid: guid(2) }] });
    const out = [...collisionFindings(store.groups(), (i) => `copy-${i}.img`)];
    expect(out.map((o) => o.path)).toEqual(Array.from({ length: 8 }, (_, i) => `copy-${i}.img`));
    const [disk, part] = out[3]!.findings as [CollisionFinding, CollisionFinding];
    expect(disk).toMatchObject({ code: 'disk-guid-collision', severity: 'warning', shared: guid(1), sharedWithCount: 7 });
    expect(disk.sharedWith.map((s) => s.path)).toEqual(['copy-0.img', 'copy-1.img', 'copy-2.img', 'copy-4.img', 'copy-5.img']);
    expect(disk.message).toContain('copy-0.img, copy-1.img, copy-2.img, copy-4.img, copy-5.img and 2 more');
    expect(disk.message).toMatch(/offline \("signature collision"\).*gptdoctor set \S+ --new-guids, or sgdisk -G/);
    expect(part).toMatchObject({ code: 'partition-guid-collision', partition: 2, sharedWithCount: 7 });
    expect(part.sharedWith[0]).toEqual({ path: 'copy-0.img', partition: 2 });
    expect(part.message).toMatch(/gptdoctor set copy-3\.img 2 --guid random.*bcdboot/);
  });
});

describe('partitionGuids', () => {
  it('reads a long table\'s GUIDs without building its lazy partition list', async () => {
    const disk = syntheticDisk({ totalSectors: 1200 + 2 * 40, entryCount: 1152, partitions: Array.from({ length: 1100, }, (_, i) => [40 + i, 40 + i] as const) });
    const report = await checkDisk(disk, { profile: 'structure' });
    const guids = partitionGuids(report, 128);
    expect(guids).toHaveLength(128);
    expect(guids[0]).toEqual({ index: 1, guid: guid(1) });
    expect(Object.getOwnPropertyDescriptor(report, 'partitions')?.get).toBeDefined(); // still unbuilt
    expect(partitionGuids(report, 3)).toEqual(report.partitions.slice(0, 3).map((p) => ({ index: p.index, guid: p.guid })));
  });
});

type Line = { late?: string; source: { path: string }; identity?: { diskGuid?: string; mbrSignature?: string }; findings: Array<{ code: string; partition?: number; message: string; fix?: string; sharedWith?: Array<{ path: string; partition?: number }>; sharedWithCount?: number }> };

describe.runIf(haveTools('sgdisk', 'sfdisk'))('scan across copied images', () => {
  const dir = tempDir();
  afterAll(() => dir.cleanup());
  const DISK = '11111111-2222-4333-8444-555555555555';
  const P1 = 'AAAAAAAA-0000-4000-8000-000000000001';
  const P2 = 'AAAAAAAA-0000-4000-8000-000000000002';
  const lib = join(dir.path, 'library');
  const file = (name: string, mib = 2): string => {
    const path = join(lib, name);
    writeFileSync(path, '');
    truncateSync(path, mib * 1024 * 1024);
    return path;
  };
  beforeAll(() => {
    mkdirSync(lib);
    // a.img, and b.img and c.img copied from it: one disk GUID and two partition GUIDs, three times
    run('sgdisk', ['-o', '-U', DISK, '-n', '1:2048:+256K', '-u', `1:${P1}`, '-n', '2:2560:+256K', '-u', `2:${P2}`, file('a.img')]);
    copyFileSync(join(lib, 'a.img'), join(lib, 'b.img'));
    copyFileSync(join(lib, 'a.img'), join(lib, 'c.img'));
    // d.img: sgdisk's own random GUIDs, shared with nothing
    run('sgdisk', ['-o', '-n', '1:2048:+256K', file('d.img')]);
    // e.img: its own disk GUID, but its partition 1 has a.img's partition 2 GUID
    run('sgdisk', ['-o', '-n', '1:2048:+256K', '-u', `1:${P2}`, file('e.img')]);
    // m1.img and its copy m2.img: MBR disks of one signature; z1.img and its copy z2.img: signature 0, which is none
    run('sfdisk', ['--quiet', '--no-reread', '--no-tell-kernel', file('m1.img')], 'label: dos\nlabel-id: 0x12345678\nstart=2048, size=100, type=83\n');
    copyFileSync(join(lib, 'm1.img'), join(lib, 'm2.img'));
    run('sfdisk', ['--quiet', '--no-reread', '--no-tell-kernel', file('z1.img')], 'label: dos\nlabel-id: 0x0\nstart=2048, size=100, type=83\n');
    copyFileSync(join(lib, 'z1.img'), join(lib, 'z2.img'));
  });

  const lines = (stdout: string): Line[] => stdout.trim().split('\n').map((l) => JSON.parse(l) as Line);

  it('adds one late JSON line per image involved, after every check object, naming the others', () => {
    const r = gptdoctor(['scan', '--json', lib]);
    const all = lines(r.stdout);
    const checks = all.filter((l) => !l.late);
    const late = all.filter((l) => l.late);
    expect(checks.map((l) => l.source.path.slice(lib.length + 1))).toEqual(['a.img', 'b.img', 'c.img', 'd.img', 'e.img', 'm1.img', 'm2.img', 'z1.img', 'z2.img']);
    expect(all.slice(0, checks.length)).toEqual(checks); // the late lines come last
    expect(checks[0]!.identity).toEqual({ diskGuid: DISK });
    expect(checks[5]!.identity).toEqual({ mbrSignature: '0x12345678' });
    expect(checks[7]!.identity).toEqual({});
    // the check objects themselves are unchanged: no collision code streams before the end
    for (const l of checks) expect(l.findings.filter((f) => f.code.endsWith('-collision'))).toEqual([]);

    const byName = new Map(late.map((l) => [l.source.path.slice(lib.length + 1), l]));
    expect([...byName.keys()]).toEqual(['a.img', 'b.img', 'c.img', 'e.img', 'm1.img', 'm2.img']);
    expect(late.every((l) => l.late === 'identity-collisions')).toBe(true);
    const codes = (name: string): string[] => byName.get(name)!.findings.map((f) => `${f.code}${f.partition ? `:${f.partition}` : ''}`);
    expect(codes('a.img')).toEqual(['disk-guid-collision', 'partition-guid-collision:1', 'partition-guid-collision:2']);
    expect(codes('e.img')).toEqual(['partition-guid-collision:1']);
    expect(codes('m1.img')).toEqual(['disk-guid-collision']);

    const [disk, , second] = byName.get('b.img')!.findings;
    expect(disk!.sharedWith!.map((s) => s.path)).toEqual([join(lib, 'a.img'), join(lib, 'c.img')]);
    expect(disk!.message).toContain(`the disk GUID ${DISK} is also that of ${join(lib, 'a.img')} and ${join(lib, 'c.img')}`);
    expect(second!.sharedWith).toEqual([{ path: join(lib, 'a.img'), partition: 2 }, { path: join(lib, 'c.img'), partition: 2 }, { path: join(lib, 'e.img'), partition: 1 }]);
    expect(second!.sharedWithCount).toBe(3);
    const e = byName.get('e.img')!.findings[0]!;
    expect(e.message).toContain(`partition 1's unique GUID ${P2} is also that of ${join(lib, 'a.img')} (partition 2), ${join(lib, 'b.img')} (partition 2) and ${join(lib, 'c.img')} (partition 2)`);
    expect(byName.get('m2.img')!.findings[0]!.message).toContain(`the MBR disk signature 0x12345678 is also that of ${join(lib, 'm1.img')}`);
  });

  it('gives every image but the first of each shared value a fix line, and running them ends the collisions', () => {
    const work = join(dir.path, 'fixing');
    mkdirSync(work);
    for (const name of ['a.img', 'b.img', 'c.img']) copyFileSync(join(lib, name), join(work, name));
    // a gzip copy cannot be written in place: its fix line writes a repaired copy
    writeFileSync(join(work, 'd.img.gz'), gzipSync(readFileSync(join(lib, 'a.img'))));
    const late = lines(gptdoctor(['scan', '--json', work]).stdout).filter((l) => l.late);
    const fixes = new Map(late.map((l) => [l.source.path.slice(work.length + 1), l.findings.map((f) => f.fix)]));
    expect(fixes.get('a.img')).toEqual([undefined, undefined, undefined]);
    expect(late[0]!.findings[0]!.message).toContain('This image was scanned first: it keeps it, and the fix lines are on the others.');
    expect(fixes.get('b.img')).toEqual([`gptdoctor set ${join(work, 'b.img')} --new-guids`, `gptdoctor set ${join(work, 'b.img')} 1 --guid random`, `gptdoctor set ${join(work, 'b.img')} 2 --guid random`]);
    expect(fixes.get('d.img.gz')![0]).toBe(`gptdoctor set ${join(work, 'd.img.gz')} --new-guids --output ${join(work, 'd-fixed.img')}`);
    // Run the disk-GUID fix lines as printed (they also give every partition a new GUID).
    for (const [, [disk]] of fixes) {
      if (!disk) continue;
      const r = gptdoctor([...disk.split(' ').slice(1), '--yes']);
      expect(r.status, r.stderr).toBe(0);
    }
    rmSync(join(work, 'd.img.gz'));
    const after = gptdoctor(['scan', '--json', work]);
    expect(lines(after.stdout).filter((l) => l.late)).toEqual([]);
    expect(lines(after.stdout).map((l) => l.source.path.slice(work.length + 1))).toEqual(['a.img', 'b.img', 'c.img', 'd-fixed.img']);
  });

  it('prints a collisions section after the image lines and counts the groups in the summary; --fail-on warning fails on them', () => {
    const r = gptdoctor(['scan', lib]);
    const out = r.stdout.trim().split('\n');
    expect(out).toHaveLength(9 + 1 + 4);
    expect(out[9]).toMatch(/^Identity collisions \(warnings: Windows takes all but one/);
    expect(out.slice(10)).toEqual([
      `  disk GUID ${DISK} [disk-guid-collision]: ${['a', 'b', 'c'].map((n) => join(lib, `${n}.img`)).join(', ')}`,
      `  MBR disk signature 0x12345678 [disk-guid-collision]: ${join(lib, 'm1.img')}, ${join(lib, 'm2.img')}`,
      `  partition GUID ${P1} [partition-guid-collision]: ${['a', 'b', 'c'].map((n) => `${join(lib, `${n}.img`)} (partition 1)`).join(', ')}`,
      `  partition GUID ${P2} [partition-guid-collision]: ${['a', 'b', 'c'].map((n) => `${join(lib, `${n}.img`)} (partition 2)`).join(', ')}, ${join(lib, 'e.img')} (partition 1)`,
    ]);
    expect(r.stderr).toMatch(/Identities shared across images:\n {2}1 {2}disk GUID shared \(3 images\)\n {2}1 {2}MBR disk signature shared \(2 images\)\n {2}2 {2}partition GUIDs shared \(4 images\)/);
    // a, b, c, e were clean and now have warnings; m1, m2, z1, z2 already had mbr-disk; d is clean
    expect(r.stderr).toMatch(/ok\s+1\n\s+with warnings\s+8/);
    expect(r.stderr).toMatch(/7\s+partition-guid-collision\n\s+5\s+disk-guid-collision/); // findings, as the other codes are counted
    expect(r.status).toBe(0);
    expect(gptdoctor(['scan', '--fail-on', 'warning', lib]).status).toBe(1);
    expect(gptdoctor(['scan', '--json', '--fail-on', 'warning', join(lib, 'a.img'), join(lib, 'b.img')]).status).toBe(1);
    // without the copies, nothing collides and a clean image passes --fail-on warning
    const alone = gptdoctor(['scan', '--fail-on', 'warning', join(lib, 'a.img'), join(lib, 'd.img')]);
    expect(alone.stdout).not.toMatch(/collision/);
    expect(alone.stderr).not.toMatch(/Identities shared/);
    expect(alone.status).toBe(0);
  });

  it('does not report a partition GUID duplicated inside one image as a collision, and reports it once per copy', () => {
    const dup = join(dir.path, 'dup');
    mkdirSync(dup);
    const f = join(dup, 'f.img');
    writeFileSync(f, '');
    truncateSync(f, 2 * 1024 * 1024);
    run('sgdisk', ['-o', '-n', '1:2048:+256K', '-u', `1:${P1}`, '-n', '2:2560:+256K', '-u', `2:${P1}`, f]);
    const alone = lines(gptdoctor(['scan', '--json', dup]).stdout);
    expect(alone).toHaveLength(1);
    expect(alone[0]!.findings.map((x) => x.code)).toContain('partition-guid-duplicate');

    copyFileSync(f, join(dup, 'g.img'));
    const both = lines(gptdoctor(['scan', '--json', dup]).stdout);
    const late = both.filter((l) => l.late);
    expect(late).toHaveLength(2);
    for (const l of late) expect(l.findings.map((x) => `${x.code}${x.partition ? `:${x.partition}` : ''}`)).toEqual(['disk-guid-collision', 'partition-guid-collision:1']);
  });

  it('scans 3,000 sparse copies of one disk with an identity store of 2 values and 6,000 entries', async () => {
    const many = join(dir.path, 'many');
    mkdirSync(many);
    const seed = join(dir.path, 'seed.img');
    writeFileSync(seed, '');
    truncateSync(seed, 128 * 1024);
    run('sgdisk', ['-o', '-a', '8', '-U', DISK, '-n', '1:40:+16K', '-u', `1:${P1}`, seed]);
    const bytes = readFileSync(seed);
    // Only the non-zero 4 KiB blocks are written: 3,000 images take ~100 MB, not 384 MB.
    const blocks: number[] = [];
    for (let o = 0; o < bytes.length; o += 4096) if (bytes.subarray(o, o + 4096).some((b) => b !== 0)) blocks.push(o);
    const paths = Array.from({ length: 3000 }, (_, i) => join(many, `copy-${String(i).padStart(4, '0')}.img`));
    for (const path of paths) {
      const fd = openSync(path, 'w');
      for (const o of blocks) writeSync(fd, bytes, o, 4096, o);
      ftruncateSync(fd, bytes.length);
      closeSync(fd);
    }
    // The CLI's loop, in process, so that the store can be looked at.
    const store = new IdentityCollisions();
    let image = 0;
    for await (const result of scanDisks(paths, { jobs: 8 })) {
      expect('report' in result).toBe(true);
      if ('report' in result) store.add(image++, imageIdentity(result.report));
    }
    expect(image).toBe(3000);
    expect(store.size).toEqual({ values: 2, members: 6000 });
    const groups = [...store.groups()];
    expect(groups.map((g) => [g.kind, g.value, g.members.length])).toEqual([['disk-guid', DISK, 3000], ['partition-guid', P1, 3000]]);
    let involved = 0;
    for (const { findings } of collisionFindings(groups, (i) => paths[i]!)) {
      involved++;
      expect(findings.map((f) => [f.sharedWith.length, f.sharedWithCount])).toEqual([[5, 2999], [5, 2999]]);
    }
    expect(involved).toBe(3000);
  });
});
