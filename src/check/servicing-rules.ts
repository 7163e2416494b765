import { arraySectors } from '../gpt/header.js';
import { TYPE_GUIDS } from '../gpt/partition-types.js';
import type { LoadedGpt } from '../read/load-gpt.js';
import type { Finding } from './finding.js';
import { OS_FREE_NEEDED, WINRE_FREE_NEEDED, type PartitionFacts } from './partition-facts.js';
import { mib, partitionLabel } from './partition-words.js';

/**
 * Windows servicing rules (the `windows` profile): what WinRE updates need of the Recovery
 * partition. KB5034441 (Windows 10), KB5034440 (Windows 11) and KB5034439 (Server 2022) fail with
 * 0x80070643 when it has too little free space; Microsoft's manual fix (KB5028997) shrinks the
 * Windows partition into it, which works only when Recovery sits right after Windows; and a
 * Recovery partition between Windows and free space stops C: from being extended after a disk
 * grows. Feature updates need about 20 GiB on the Windows partition. Free space is read only as
 * far as the rule needs (addServicingFacts).
 */

const MIB = 1024 * 1024;
/** Gaps up to this much are alignment, not free space anyone could use. */
const ALIGNMENT_SLACK = MIB;
/** Free space after Recovery from this much on is space C: could have grown into. */
const GROWTH_WORTH_NAMING = 64 * MIB;

/** KB5028997's steps, in the words a person runs them (diskpart and reagentc, from Windows or WinRE). */
const KB5028997 =
  "Microsoft's KB5028997 steps: reagentc /disable; in diskpart shrink the Windows partition by 250 MB (shrink desired=250 minimum=250), " +
  'delete the Recovery partition (delete partition override) and create it again in the freed space ' +
  '(create partition primary id=de94bba4-06d1-4d40-a16a-bfd50179d6ac; gpt attributes=0x8000000000000001; format quick fs=ntfs label="Windows RE tools"); reagentc /enable';

const label = (f: PartitionFacts): string => partitionLabel(f.entry);
const gib = (bytes: number): string => (bytes >= 1024 * MIB ? `${(bytes / (1024 * MIB)).toFixed(1)} GiB` : mib(bytes));

export function servicingFindings(g: LoadedGpt, facts: readonly PartitionFacts[]): Finding[] {
  const out: Finding[] = [];
  const byStart = facts.filter((f) => f.entry.lastLba >= f.entry.firstLba).sort((a, b) => a.entry.firstLba - b.entry.firstLba);
  const windows = byStart.filter((f) => f.windowsSystem);
  for (const w of windows) {
    if (w.freeBytes !== undefined && w.freeBytes < OS_FREE_NEEDED) {
      out.push({ code: 'os-low-space', severity: 'info', partition: w.entry.index, message: `${label(w)} is the Windows partition (\\Windows\\System32) with ${gib(w.freeBytes)} free; feature updates need about 20 GiB free and otherwise fail with 0xC190020E / 0x80070070` });
    }
  }
  for (const r of byStart.filter((f) => f.entry.typeGuid === TYPE_GUIDS.WINDOWS_RECOVERY && !f.outsideImage)) {
    if (r.filesystem === 'bitlocker') {
      out.push({ code: 'recovery-encrypted', severity: 'info', partition: r.entry.index, message: `${label(r)} is a Recovery partition that holds a BitLocker volume (-FVE-FS-): WinRE servicing cannot read it and skips it, so WinRE updates go to a WinRE on the Windows partition or fail` });
      continue;
    }
    const placement = placementFinding(g, byStart, windows, r);
    if (placement) out.push(placement.finding);
    if (!r.ntfs) continue;
    if (r.winreImage === false) {
      out.push({ code: 'winre-image-missing', severity: 'info', partition: r.entry.index, message: `${label(r)} is an NTFS Recovery partition without \\Recovery\\WindowsRE\\Winre.wim: WinRE is disabled, or lives on the Windows partition (reagentc /info shows where)` });
    } else if (r.freeBytes !== undefined && r.freeBytes < WINRE_FREE_NEEDED) {
      const movable = placement?.problem !== 'not-after-windows';
      out.push({
        code: 'winre-low-space',
        severity: 'warning',
        partition: r.entry.index,
        message: `${label(r)} holds WinRE with only ${mib(r.freeBytes)} free; WinRE updates (KB5034441, KB5034440, KB5034439) need ${mib(WINRE_FREE_NEEDED)} free and fail with 0x80070643. ` +
          (movable ? KB5028997 : `${KB5028997}. Those steps need the Recovery partition directly after the Windows partition, which it is not here`),
      });
    }
  }
  return out;
}

/**
 * Where the Recovery partition sits against the Windows partition it serves (the nearest one
 * before it, or the first when it comes before them all): directly after it, with no free space
 * after itself that C: could have grown into.
 */
function placementFinding(g: LoadedGpt, byStart: readonly PartitionFacts[], windows: readonly PartitionFacts[], r: PartitionFacts): { problem: 'not-after-windows' | 'blocks-growth'; finding: Finding } | undefined {
  if (windows.length === 0) return undefined;
  const w = [...windows].reverse().find((x) => x.entry.firstLba < r.entry.firstLba) ?? windows[0]!;
  const ss = g.sectorSize;
  const next = byStart[byStart.indexOf(w) + 1];
  const gap = (r.entry.firstLba - w.entry.lastLba - 1) * ss;
  if (next !== r || gap > ALIGNMENT_SLACK) {
    const where = r.entry.firstLba < w.entry.firstLba ? 'before it' : `after ${next && next !== r ? partitionLabel(next.entry) : `${mib(gap)} of free space`}`;
    return { problem: 'not-after-windows', finding: {
      code: 'recovery-placement',
      severity: 'warning',
      partition: r.entry.index,
      message: `${label(r)} is not directly after the Windows partition (${partitionLabel(w.entry)}) but ${where}: KB5028997's fix for WinRE updates, which shrinks the Windows partition into the Recovery partition, cannot work`,
    } };
  }
  const after = freeAfter(g, byStart, r) * ss;
  if (after < GROWTH_WORTH_NAMING) return undefined;
  return { problem: 'blocks-growth', finding: {
    code: 'recovery-placement',
    severity: 'warning',
    partition: r.entry.index,
    message: `${label(r)} sits between the Windows partition (${partitionLabel(w.entry)}) and ${mib(after)} of unallocated space: C: cannot be extended into it (Disk Management and diskpart extend only into space directly after a volume). Move or recreate the Recovery partition at the end first (reagentc /disable, delete it, extend C:, create it again, reagentc /enable)`,
  } };
}

/** Unpartitioned sectors right after `r`, up to the next partition or the end of the usable range the disk allows. */
function freeAfter(g: LoadedGpt, byStart: readonly PartitionFacts[], r: PartitionFacts): number {
  const next = byStart.find((f) => f.entry.firstLba > r.entry.lastLba);
  if (next) return next.entry.firstLba - r.entry.lastLba - 1;
  const header = g.table === 'none' ? undefined : g[g.table].header;
  if (!header) return 0;
  // A disk that grew keeps its old usable range until the backup moves (repair); count what it allows.
  const backupArea = arraySectors(header.entryCount, header.entrySize, g.sectorSize) + 1;
  return Math.max(header.lastUsableLba, g.lastLba - backupArea) - r.entry.lastLba;
}
