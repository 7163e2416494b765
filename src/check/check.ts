import type { LoadedGpt } from '../read/load-gpt.js';
import { FINDING_CODES, SEVERITY_RANK, fixCommand, shellQuote, type CloudTarget, type Finding, type Profile } from './finding.js';
import { readCloudFacts } from './cloud-facts.js';
import { cloudFindings } from './cloud-rules.js';
import { copyTarget } from './fix-target.js';
import { addServicingFacts, partitionFacts, type PartitionFacts } from './partition-facts.js';
import { structureFindings } from './structure.js';
import { hasUefiEvidence, uefiFindings } from './uefi-rules.js';
import { bcdFindings, mbrBcdFindings } from './bcd-rules.js';
import { hasMbrWindowsEvidence, mbr2gptFindings } from './mbr2gpt-rules.js';
import { isMbrOnlyDisk } from '../read/mbr-layout.js';
import { readMbrSystem, type MbrSystem } from '../read/mbr-system.js';
import { servicingFindings } from './servicing-rules.js';
import { hasWindowsEvidence, minimumEspBytes, windowsFindings } from './windows-rules.js';

/** What the rules found on a loaded disk, before it is put into a report. */
export interface CheckResult {
  /** The profile asked for. */
  profile: Profile;
  /** The rule sets that ran: `auto` picks windows, uefi or structure from what the disk holds. */
  profileApplied: Exclude<Profile, 'auto'>;
  findings: Finding[];
  /** What each partition holds, as the rules read it. */
  facts: PartitionFacts[];
  /** On an MBR disk read with content rules: its partitions and boot files, as the MBR2GPT and BCD rules read them. */
  mbr?: MbrSystem;
  /** The cloud whose import rules ran as well (`--target`). */
  target?: CloudTarget;
}

/**
 * Runs the rules of a profile over a loaded disk. `diskArg` is how the user named the disk;
 * it goes into the `fix` command lines. report/check-report.ts turns the result into the JSON
 * contract of `check --json`.
 */
export async function runChecks(g: LoadedGpt, diskArg: string, profile: Profile = 'auto', target?: CloudTarget): Promise<CheckResult> {
  const fix = fixCommand(diskArg);
  const findings = structureFindings(g, fix);
  // A cloud target judges what the partitions hold (ESPs, systems, encryption) under any profile.
  const facts = g.table === 'none' ? [] : await partitionFacts(g, { readContents: profile !== 'structure' || target !== undefined });
  // An MBR disk has no GPT partitions to judge, but a Windows one can be judged for MBR2GPT.
  const readMbr = target !== undefined || (profile !== 'structure' && profile !== 'uefi');
  const mbr = readMbr && isMbrOnlyDisk(g) ? await readMbrSystem(g, minimumEspBytes(g.sectorSize)) : undefined;
  const mbrWindows = mbr !== undefined && hasMbrWindowsEvidence(mbr);
  let applied: Exclude<Profile, 'auto'> = profile === 'auto' ? 'structure' : profile;
  if (profile === 'auto') {
    if (hasWindowsEvidence(facts) || mbrWindows) applied = 'windows';
    else if (hasUefiEvidence(facts)) applied = 'uefi';
  }
  if (applied === 'windows' && mbr && mbrWindows) findings.push(...mbrBcdFindings(g, mbr), ...mbr2gptFindings(g, mbr));
  if (applied === 'windows') await addServicingFacts(facts);
  if (applied !== 'structure' && g.table !== 'none') findings.push(...uefiFindings(facts, fix, applied === 'windows'));
  if (applied === 'windows' && g.table !== 'none') findings.push(...windowsFindings(g, facts, fix), ...servicingFindings(g, facts), ...bcdFindings(g, facts));
  await redirectFixesToCopy(g, diskArg, findings);
  if (target) findings.push(...cloudFindings(target, await readCloudFacts(g, facts, mbr, findings), diskArg));
  sortFindings(findings);
  return { profile, profileApplied: applied, findings, facts, ...(mbr ? { mbr } : {}), ...(target ? { target } : {}) };
}

/**
 * Fix lines for a disk that cannot take the writes in place (compressed, qcow2, VMDK, a block
 * not allocated, a parent of differencing disks) write a repaired copy instead: `--output` goes
 * at the end of each, as fixCommand would put it. Asked only when there is a fix line, so a clean
 * image in a scan costs nothing more.
 */
async function redirectFixesToCopy(g: LoadedGpt, diskArg: string, findings: Finding[]): Promise<void> {
  if (!findings.some((f) => f.fix)) return;
  const copy = await copyTarget(g, diskArg);
  if (copy === undefined) return;
  const tail = ` --output ${shellQuote(copy)}`;
  for (const f of findings) if (f.fix) f.fix += tail;
}

const CODE_ORDER = new Map<string, number>(FINDING_CODES.map((c, i) => [c, i]));

function sortFindings(findings: Finding[]): void {
  findings.sort(
    (a, b) =>
      SEVERITY_RANK[a.severity] - SEVERITY_RANK[b.severity] ||
      (CODE_ORDER.get(a.code) ?? 0) - (CODE_ORDER.get(b.code) ?? 0) ||
      (a.partition ?? 0) - (b.partition ?? 0),
  );
}

/** Exit status of check/scan: 1 when an error (or, with --fail-on warning, a warning) was found. */
export function findingsExitCode(findings: readonly Finding[], failOn: 'error' | 'warning' = 'error'): number {
  const limit = SEVERITY_RANK[failOn];
  return findings.some((f) => SEVERITY_RANK[f.severity] <= limit) ? 1 : 0;
}
