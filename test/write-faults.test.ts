import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DiskError, type BlockSource } from '../src/disk/block-source.js';
import { MemorySource } from '../src/disk/memory-source.js';
import { structureFindings } from '../src/check/structure.js';
import { fixCommand } from '../src/check/finding.js';
import { checkLoaded } from '../src/report/check-report.js';
import { loadGpt } from '../src/read/load-gpt.js';
import { applyPlan } from '../src/write/apply.js';
import type { Plan } from '../src/plan/plan.js';
import { TYPE_GUIDS } from '../src/gpt/partition-types.js';
import { planRepair } from '../src/plan/plan-repair.js';
import { planSet } from '../src/plan/plan-set.js';
import { undoJournal } from '../src/write/undo.js';
import { memory, sfdiskImage, sha256 } from './helpers/images.js';
import { haveTools, prng, tempDir } from './helpers/tools.js';

/** Thrown by FaultySource where a real machine would lose power. */
class Crash extends Error {}

/**
 * A disk that dies at a chosen write or flush. `torn` lets the fatal write land half its sectors;
 * `loseUnflushed` drops every write since the last flush, as a volatile drive cache would.
 */
class FaultySource extends MemorySource {
  private writes = 0;
  private flushes = 0;
  private unflushed: Array<{ offset: number; before: Uint8Array }> = [];
  constructor(bytes: Uint8Array, private readonly fault: { write?: number; flush?: number; torn?: boolean; loseUnflushed?: boolean }) {
    super('faulty.img', bytes, true);
  }
  override async write(offset: number, data: Uint8Array): Promise<void> {
    if (this.writes++ === this.fault.write) {
      if (this.fault.torn) await this.record(offset, data.subarray(0, Math.ceil(data.length / 1024) * 512));
      this.crash();
    }
    await this.record(offset, data);
  }
  override async flush(): Promise<void> {
    if (this.flushes++ === this.fault.flush) this.crash();
    this.unflushed = [];
  }
  private async record(offset: number, data: Uint8Array): Promise<void> {
    this.unflushed.push({ offset, before: (await this.read(offset, data.length)).slice() });
    await super.write(offset, data);
  }
  private crash(): never {
    if (this.fault.loseUnflushed) for (const u of this.unflushed.reverse()) this.contents().set(u.before, u.offset);
    throw new Crash('power lost');
  }
}

const SCRIPT = [
  'label: gpt',
  'label-id: 5A1F0C2E-7B7D-4C55-9E4B-21E4C0B2D0AA',
  'start=2048, size=204800, type=EBD0A0A2-B9E5-4433-87C0-68B6B72699C7, name="EFI system partition"',
  'size=32768, type=E3C9E316-0B5C-4DB8-817D-F92DF00215AE, name="Microsoft reserved partition"',
  'size=100000, type=EBD0A0A2-B9E5-4433-87C0-68B6B72699C7, name="Basic data partition"',
].join('\n') + '\n';

/** Fills each partition with pseudo-random bytes so that any stray write into one shows. */
function fillPartitions(bytes: Uint8Array): void {
  const rand = prng(7);
  for (const [start, sectors] of [[2048, 204800], [206848, 32768], [239616, 100000]] as const) {
    for (let i = start * 512; i < (start + sectors) * 512; i += 4096) bytes[i] = Math.floor(rand() * 256);
  }
}

function partitionHashes(bytes: Uint8Array): string[] {
  return [[2048, 204800], [206848, 32768], [239616, 100000]].map(([s, n]) => sha256(bytes.subarray(s! * 512, (s! + n!) * 512)));
}

/** Structural findings of the given severities on these bytes. */
async function structural(bytes: Uint8Array, severities: readonly string[] = ['error']): Promise<string[]> {
  const g = await loadGpt(memory(bytes));
  return structureFindings(g, fixCommand('disk.img')).filter((f) => severities.includes(f.severity)).map((f) => f.code);
}

describe.runIf(haveTools('sfdisk'))('write protocol under faults', () => {
  const dir = tempDir();
  afterAll(() => dir.cleanup());
  const base = sfdiskImage(SCRIPT, 256);
  fillPartitions(base);
  const grown = new Uint8Array(300 * 1024 * 1024);
  grown.set(base);

  const scenarios: Array<[string, Uint8Array, (src: BlockSource) => Promise<Plan>]> = [
    ['set --type esp', base, async (src) => planSet(await loadGpt(src), 1, { typeGuid: TYPE_GUIDS.ESP }, 'set')],
    ['repair of a grown disk', grown, async (src) => {
      const g = await loadGpt(src);
      return planRepair(g, { command: 'repair', findings: (await checkLoaded(g, 'disk.img', 'structure')).findings, applyBootFixes: false });
    }],
  ];

  for (const [label, original, makePlan] of scenarios) {
    describe(label, async () => {
      const plan = await makePlan(memory(original.slice()));
      const target = original.slice();
      for (const w of plan.writes) target.set(w.after, w.offset);
      const hashes = partitionHashes(original);
      const faults: Array<{ write?: number; flush?: number; torn?: boolean; loseUnflushed?: boolean }> = [];
      for (let i = 0; i < plan.writes.length; i++) faults.push({ write: i }, { write: i, torn: true }, { write: i, loseUnflushed: true });
      for (let i = 0; i < 4; i++) faults.push({ flush: i }, { flush: i, loseUnflushed: true });

      it('has several ordered writes', () => {
        expect(plan.writes.length).toBeGreaterThanOrEqual(4);
        expect(plan.writes[0]!.name).toMatch(/^backup|stale/);
      });

      it.each(faults.map((f, i) => [JSON.stringify(f), f, i] as const))('crash at %s: check sees it, undo restores', async (_name, fault, i) => {
        const disk = new FaultySource(original.slice(), fault);
        const journalPath = join(dir.path, `${label.replace(/\W/g, '_')}-${i}.json`);
        const outcome = await applyPlan(plan, disk, { journalPath, reopen: async () => memory(disk.contents().slice()) }).then(() => 'done', (e: unknown) => e);
        const now = disk.contents();
        if (outcome !== 'done') expect(outcome).toBeInstanceOf(Crash);
        expect(partitionHashes(now)).toEqual(hashes);
        const state = sha256(now) === sha256(original) ? 'original' : sha256(now) === sha256(target) ? 'target' : 'partial';
        // A half-done plan is never healthy: at least a warning (e.g. a stale protective MBR once the GPT is done).
        if (state === 'partial') expect((await structural(now, ['error', 'warning'])).length).toBeGreaterThan(0);

        if (state === 'partial') {
          // repair, too, brings a half-written disk back to a consistent table.
          const repairing = new MemorySource('disk.img', now.slice(), true);
          const g = await loadGpt(repairing);
          const fix = await planRepair(g, { command: 'repair', findings: (await checkLoaded(g, 'disk.img', 'structure')).findings, applyBootFixes: false });
          await applyPlan(fix, repairing, { journalPath: `${journalPath}.repair`, reopen: async () => memory(repairing.contents().slice()) });
          expect(await structural(repairing.contents(), ['error', 'warning'])).toEqual([]);
          expect(partitionHashes(repairing.contents())).toEqual(hashes);
        }

        const restoring = new MemorySource('disk.img', now.slice(), true);
        const result = await undoJournal(journalPath, restoring, { reopen: async () => memory(restoring.contents().slice()) });
        expect(result.problems).toEqual([]);
        expect(sha256(restoring.contents())).toBe(sha256(original));
      });

      it('completes, verifies, and the disk checks clean', async () => {
        const disk = new MemorySource('disk.img', original.slice(), true);
        const journalPath = join(dir.path, `${label.replace(/\W/g, '_')}-ok.json`);
        const result = await applyPlan(plan, disk, { journalPath, reopen: async () => memory(disk.contents().slice()) });
        expect(result.problems).toEqual([]);
        expect(sha256(disk.contents())).toBe(sha256(target));
        expect(await structural(disk.contents(), ['error', 'warning'])).toEqual([]);
        expect(partitionHashes(disk.contents())).toEqual(hashes);
      });
    });
  }

  it('refuses when the disk changed after planning, writing nothing', async () => {
    const plan = await planSet(await loadGpt(memory(base.slice())), 1, { typeGuid: TYPE_GUIDS.ESP }, 'set');
    const changed = base.slice();
    changed[plan.writes[0]!.offset + 5] = changed[plan.writes[0]!.offset + 5]! ^ 0xff;
    const disk = new MemorySource('disk.img', changed, true);
    await expect(applyPlan(plan, disk, { journalPath: join(dir.path, 'changed.json'), reopen: async () => memory(disk.contents()) })).rejects.toThrow(DiskError);
    expect(sha256(disk.contents())).toBe(sha256(changed));
  });

  it('undo refuses when someone else wrote over our sectors, unless forced', async () => {
    const plan = await planSet(await loadGpt(memory(base.slice())), 1, { typeGuid: TYPE_GUIDS.ESP }, 'set');
    const disk = new MemorySource('disk.img', base.slice(), true);
    const journalPath = join(dir.path, 'foreign.json');
    await applyPlan(plan, disk, { journalPath, reopen: async () => memory(disk.contents().slice()) });
    const at = plan.writes.at(-1)!.offset + 100;
    disk.contents()[at] = disk.contents()[at]! ^ 0x55;
    const tampered = sha256(disk.contents());
    await expect(undoJournal(journalPath, disk, { reopen: async () => memory(disk.contents().slice()) })).rejects.toThrow(/changed since/);
    expect(sha256(disk.contents())).toBe(tampered);
    const forced = await undoJournal(journalPath, disk, { reopen: async () => memory(disk.contents().slice()), force: true });
    expect(forced.problems).toEqual([]);
    expect(sha256(disk.contents())).toBe(sha256(base));
  });
});
