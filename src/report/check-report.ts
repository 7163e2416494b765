import type { LoadedGpt } from '../read/load-gpt.js';
import { runChecks } from '../check/check.js';
import type { Finding, Profile } from '../check/finding.js';
import { partitionReport, sourceReport, type PartitionReport, type SourceReport } from './inspect-report.js';

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
 * Runs the rules of a profile over a loaded disk and reports them as `check --json` prints them.
 * `diskArg` is how the user named the disk; it goes into the `fix` command lines.
 */
export async function checkLoaded(g: LoadedGpt, diskArg: string, profile: Profile = 'auto'): Promise<CheckReport> {
  const { profileApplied, findings, facts } = await runChecks(g, diskArg, profile);
  const report: CheckReport = {
    source: sourceReport(g.source, g),
    profile,
    profileApplied,
    ok: !findings.some((f) => f.severity === 'error'),
    findings,
    partitions: [],
  };
  const list = (): PartitionReport[] => facts.map((f) => partitionReport(f.entry, g.sectorSize, f.filesystem, f));
  if (facts.length < LAZY_LIST_FROM) {
    report.partitions = list();
  } else {
    setLazily(report, 'partitions', list);
    partitionCounts.set(report, facts.length);
  }
  return report;
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

