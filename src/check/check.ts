import type { LoadedGpt } from '../read/load-gpt.js';
import { partitionReport, sourceReport, type PartitionReport, type SourceReport } from '../report/inspect-report.js';
import { FINDING_CODES, SEVERITY_RANK, type Finding, type Profile } from './finding.js';
import { addFreeSpace, partitionFacts } from './partition-facts.js';
import { structureFindings } from './structure.js';
import { bootFindings, hasUefiEvidence, hasWindowsEvidence } from './windows.js';

/** The JSON contract of `check --json` (DESIGN.md §3). */
export interface CheckReport {
  source: SourceReport;
  /** The profile asked for. */
  profile: Profile;
  /** The rule sets that ran: `auto` picks windows, uefi or structure from what the disk holds. */
  profileApplied: Exclude<Profile, 'auto'>;
  /** No error-severity finding. */
  ok: boolean;
  findings: Finding[];
  partitions: PartitionReport[];
}

/**
 * Runs the rules of a profile over a loaded disk. `diskArg` is how the user named the disk;
 * it goes into the `fix` command lines.
 */
export async function checkLoaded(g: LoadedGpt, diskArg: string, profile: Profile = 'auto'): Promise<CheckReport> {
  const findings = structureFindings(g, diskArg);
  const facts = g.table === 'none' ? [] : await partitionFacts(g, { readContents: profile !== 'structure' });
  let applied: Exclude<Profile, 'auto'> = profile === 'auto' ? 'structure' : profile;
  if (profile === 'auto') {
    if (hasWindowsEvidence(facts)) applied = 'windows';
    else if (hasUefiEvidence(facts)) applied = 'uefi';
  }
  if (applied === 'windows') await addFreeSpace(facts);
  if (applied !== 'structure' && g.table !== 'none') findings.push(...bootFindings(g, facts, diskArg, applied === 'windows'));
  sortFindings(findings);
  return {
    source: sourceReport(g.source, g),
    profile,
    profileApplied: applied,
    ok: !findings.some((f) => f.severity === 'error'),
    findings,
    partitions: facts.map((f) => partitionReport(f.entry, g.sectorSize, f.filesystem)),
  };
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
