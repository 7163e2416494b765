import type { LoadedGpt } from '../read/load-gpt.js';
import { partitionReport, sourceReport, type PartitionReport, type SourceReport } from '../report/inspect-report.js';
import { FINDING_CODES, SEVERITY_RANK, fixCommand, shellQuote, type Finding, type Profile } from './finding.js';
import { copyTarget } from './fix-target.js';
import { addFreeSpace, partitionFacts } from './partition-facts.js';
import { structureFindings } from './structure.js';
import { hasUefiEvidence, uefiFindings } from './uefi-rules.js';
import { hasWindowsEvidence, windowsFindings } from './windows-rules.js';

/** The JSON contract of `check --json` (docs/ARCHITECTURE.md §5). */
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
  const fix = fixCommand(diskArg);
  const findings = structureFindings(g, fix);
  const facts = g.table === 'none' ? [] : await partitionFacts(g, { readContents: profile !== 'structure' });
  let applied: Exclude<Profile, 'auto'> = profile === 'auto' ? 'structure' : profile;
  if (profile === 'auto') {
    if (hasWindowsEvidence(facts)) applied = 'windows';
    else if (hasUefiEvidence(facts)) applied = 'uefi';
  }
  if (applied === 'windows') await addFreeSpace(facts);
  if (applied !== 'structure' && g.table !== 'none') findings.push(...uefiFindings(facts, fix, applied === 'windows'));
  if (applied === 'windows' && g.table !== 'none') findings.push(...windowsFindings(g, facts, fix));
  await redirectFixesToCopy(g, diskArg, findings);
  sortFindings(findings);
  const report: CheckReport = {
    source: sourceReport(g.source, g),
    profile,
    profileApplied: applied,
    ok: !findings.some((f) => f.severity === 'error'),
    findings,
    partitions: [],
  };
  const list = (): PartitionReport[] => facts.map((f) => partitionReport(f.entry, g.sectorSize, f.filesystem));
  if (facts.length < LAZY_LIST_FROM) {
    report.partitions = list();
  } else {
    setLazily(report, 'partitions', list);
    partitionCounts.set(report, facts.length);
  }
  return report;
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

/**
 * From this many partitions on, a report's list is built when something first reads it: at
 * 32,768 entries, building it costs more than checking the table, and the human check shows only
 * how many there are. Short lists are built at once, as plain properties are cheaper to read.
 */
const LAZY_LIST_FROM = 1024;

/** How many partitions lazily listed reports hold, known before their lists are built. */
const partitionCounts = new WeakMap<CheckReport, number>();

/** How many partitions a report lists, without building a lazy list. */
export function partitionCount(report: CheckReport): number {
  return partitionCounts.get(report) ?? report.partitions.length;
}

/**
 * Gives `target[key]` a value computed on first read, after which it is an ordinary property.
 * To JSON.stringify, spreading, Object.keys and tests it is an ordinary enumerable property.
 */
function setLazily<T extends object, K extends keyof T>(target: T, key: K, compute: () => T[K]): void {
  const settle = (value: T[K]): T[K] => {
    Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
    return value;
  };
  Object.defineProperty(target, key, { enumerable: true, configurable: true, get: () => settle(compute()), set: settle });
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
