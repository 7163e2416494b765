import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkDisk } from '../../src/api.js';
import { gptdoctor } from './cli.js';
import { fixtureBytes, fixtureFile, manifest, memory, sha256File } from './images.js';
import { haveTools, run, runAll, tempDir } from './tools.js';

/**
 * Every `fix:` line is a command that succeeds on its input and removes its finding. For each
 * committed fixture with a fixable finding (and one with swapped ESP/Windows types made by
 * sgdisk here), in every container gptdoctor reads: check --json, run its first fix line, check
 * again, until no fix line is left; then sgdisk -v must be clean on the result, and undoing
 * every in-place write in reverse must give back the original file byte for byte.
 */

interface Finding {
  code: string;
  partition?: number;
  fix?: string;
}

export type Container = 'raw' | 'gzip' | 'vhd' | 'vhdx' | 'qcow2' | 'vmdk';

/** The image in `container`, made by independent tools (gzip, qemu-img) from a raw image. */
function packed(raw: string, container: Container): string {
  const base = raw.replace(/\.img$/, '');
  switch (container) {
    case 'raw':
      return raw;
    case 'gzip':
      run('gzip', ['-k', '-n', '-1', raw]);
      return `${raw}.gz`;
    case 'vhd':
      run('qemu-img', ['convert', '-O', 'vpc', '-o', 'subformat=dynamic,force_size=on', raw, `${base}.vhd`]);
      return `${base}.vhd`;
    default:
      run('qemu-img', ['convert', '-O', container, raw, `${base}.${container}`]);
      return `${base}.${container}`;
  }
}

const checkJson = (disk: string): Finding[] => {
  const r = gptdoctor(['check', '--json', disk]);
  expect(r.status, r.stderr).toBeLessThan(2);
  return (JSON.parse(r.stdout) as { findings: Finding[] }).findings;
};

/** A fix line as argv: paths here never need quoting, so a quote would mean a bug in the test. */
function argv(fix: string): string[] {
  expect(fix).toMatch(/^gptdoctor (set|repair) /);
  expect(fix).not.toMatch(/['"\\]/);
  return fix.split(' ').slice(1);
}

/** The suite for some containers (split over two files, so that vitest runs them side by side). */
export function fixLineSuite(containers: readonly Container[], options: { coverage: boolean }): void {
describe.runIf(haveTools('sgdisk', 'qemu-img', 'gzip'))(`every fix line runs and removes its finding (${containers.join(', ')})`, () => {
  const dir = tempDir();
  afterAll(() => dir.cleanup());

  /** Fixtures with at least one fix line on the raw image (found through the library, quickly). */
  const fixable: string[] = [];
  const fixedCodes = new Set<string>();
  const discovery = async (): Promise<void> => {
    if (fixable.length) return;
    const probe = join(dir.path, 'probe');
    execFileSync('mkdir', ['-p', probe]);
    for (const name of Object.keys(manifest())) {
      const fixes = (await checkDisk(memory(fixtureBytes(name), false, `${name}.img`))).findings.filter((f) => f.fix);
      if (fixes.length) fixable.push(name);
      for (const f of fixes) fixedCodes.add(f.code);
    }
    const swapped = fixtureFile('windows', probe).replace(/windows\.img$/, 'swapped-types.img');
    execFileSync('mv', [join(probe, 'windows.img'), swapped]);
    run('sgdisk', ['-t1:0700', '-t3:EF00', swapped]); // the FAT ESP typed Basic data, the NTFS volume typed ESP
    fixable.push('swapped-types');
    for (const f of (await checkDisk(swapped)).findings) if (f.fix) fixedCodes.add(f.code);
  };

  // Defined in one of the two files only (a skipped test would be a defect).
  if (options.coverage) it('the fixable fixtures cover every code that carries a fix line', async () => {
    await discovery();
    expect([...fixedCodes].sort()).toEqual(
      ['backup-entries-bad', 'backup-header-bad', 'backup-not-at-end', 'esp-attributes', 'esp-not-fat', 'esp-type', 'headers-disagree', 'hybrid-mbr', 'image-truncated', 'msr-type', 'partition-guid-duplicate', 'pmbr-invalid', 'pmbr-missing', 'primary-entries-bad', 'primary-header-bad', 'recovery-attributes'],
    );
    expect(fixable).toEqual(expect.arrayContaining(['grown', 'truncated', 'guid-duplicate', 'headers-disagree', 'no-pmbr', 'hybrid-mbr', 'windows-esp-basic', 'windows-esp-ntfs', 'windows-esp-noblockio', 'windows-msr-basic', 'windows-recovery-no-required', 'swapped-types']));
  });

  for (const container of containers) {
    it(`${container}: each fixable fixture ends with no fix line, sgdisk -v clean, and undo restoring every in-place write`, async () => {
      await discovery();
      for (const name of fixable) {
        const work = join(dir.path, `${container}-${name}`);
        execFileSync('mkdir', ['-p', work]);
        const raw = name === 'swapped-types' ? join(work, 'swapped-types.img') : fixtureFile(name, work);
        if (name === 'swapped-types') {
          execFileSync('cp', [join(dir.path, 'probe', 'swapped-types.img'), raw]);
        }
        const input = packed(raw, container);
        const inputHash = sha256File(input);
        let disk = input;
        const journals: string[] = [];
        for (let step = 0; ; step++) {
          expect(step, `${name} (${container}): fix lines keep coming`).toBeLessThan(8);
          const pending = checkJson(disk).filter((f) => f.fix);
          if (!pending.length) break;
          const finding = pending[0]!;
          const before = sha256File(disk);
          const r = gptdoctor([...argv(finding.fix!), '--yes', '--json']);
          expect(r.status, `${name} (${container}): \`${finding.fix}\` failed: ${r.stderr}`).toBe(0);
          const result = JSON.parse(r.stdout) as { applied: boolean; undoFile?: string; output?: string };
          if (result.output) {
            // The input is never touched; the copy is where the work goes on.
            expect(sha256File(disk), `${name} (${container}): --output changed its input`).toBe(before);
            disk = result.output;
          } else if (result.undoFile) {
            journals.push(result.undoFile);
          }
          const after = checkJson(disk);
          expect(after.filter((f) => f.code === finding.code && f.partition === finding.partition), `${name} (${container}): ${finding.code} is still there after \`${finding.fix}\``).toEqual([]);
        }
        expect(sha256File(input) === inputHash || journals.length > 0, `${name} (${container}): the input changed without an undo file`).toBe(true);
        let final = disk;
        if (!disk.endsWith('.img')) {
          final = join(work, 'final.raw');
          run('qemu-img', ['convert', '-O', 'raw', disk, final]);
        }
        expect(runAll('sgdisk', ['-v', final]).output, `${name} (${container})`).toMatch(/No problems found/);
        if (disk.endsWith('.vhdx')) expect(runAll('qemu-img', ['check', disk]).status, `${name}: qemu-img check`).toBe(0);
        if (disk === input && journals.length) {
          for (const journal of journals.reverse()) expect(gptdoctor(['undo', journal, '--yes']).status).toBe(0);
          expect(sha256File(input), `${name} (${container}): undo gives back the original`).toBe(inputHash);
        }
      }
    }, 240_000);
  }
});
}
