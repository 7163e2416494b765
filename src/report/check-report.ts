import type { LoadedGpt } from '../read/load-gpt.js';
import { runChecks } from '../check/check.js';
import type { CloudTarget, Finding, Profile } from '../check/finding.js';
import type { PartitionFacts } from '../check/partition-facts.js';
import { ZERO_GUID } from '../gpt/guid.js';
import { hex32 } from '../gpt/le.js';
import { partitionReport, sourceReport, type PartitionReport, type SourceReport } from './inspect-report.js';

/** The JSON contract of `check --json` (docs/ARCHITECTURE.md §5). */
export interface CheckReport {
  source: SourceReport;
  /** What the disk is known by to the OS: `scan` compares these across the images it scans. */
  identity: IdentityReport;
  /** The profile asked for. */
  profile: Profile;
  /** The rule sets that ran: `auto` picks windows, uefi or structure from what the disk holds. */
  profileApplied: Exclude<Profile, 'auto'>;
  /** The cloud whose import rules ran too (`--target`); absent without one. */
  target?: CloudTarget;
  /** No error-severity finding. */
  ok: boolean;
  findings: Finding[];
  partitions: PartitionReport[];
}

/**
 * Windows takes a second disk with the same identity offline ("signature collision"): a GPT disk
 * by its disk GUID, an MBR disk by its 32-bit disk signature. Both absent when neither is known.
 */
export interface IdentityReport {
  /** The GPT disk GUID, from the header of the copy the partitions come from (else a valid header's); never the zero GUID. */
  diskGuid?: string;
  /**
   * For a disk Windows reads as MBR (LBA 0 holds an MBR without, or a hybrid MBR beside, the 0xEE
   * record): the disk signature at offset 440, as 0x and 8 hex digits; absent when 0, which
   * Windows treats as no signature and replaces.
   */
  mbrSignature?: string;
}

/**
 * Runs the rules of a profile over a loaded disk and reports them as `check --json` prints them.
 * `diskArg` is how the user named the disk; it goes into the `fix` command lines.
 */
export async function checkLoaded(g: LoadedGpt, diskArg: string, profile: Profile = 'auto', target?: CloudTarget): Promise<CheckReport> {
  const { profileApplied, findings, facts } = await runChecks(g, diskArg, profile, target);
  const report: CheckReport = {
    source: sourceReport(g.source, g),
    identity: identityReport(g),
    profile,
    profileApplied,
    ...(target ? { target } : {}),
    ok: !findings.some((f) => f.severity === 'error'),
    findings,
    partitions: [],
  };
  const list = (): PartitionReport[] => facts.map((f) => partitionReport(f.entry, g.sectorSize, f.filesystem, f));
  if (facts.length < LAZY_LIST_FROM) {
    report.partitions = list();
  } else {
    setLazily(report, 'partitions', list);
    lazyFacts.set(report, facts);
  }
  return report;
}

function identityReport(g: LoadedGpt): IdentityReport {
  const copy = g.table === 'primary' ? g.primary : g.table === 'backup' ? g.backup : [g.primary, g.backup].find((c) => c.headerValid);
  const diskGuid = copy?.headerValid ? copy.header?.diskGuid : undefined;
  const readAsMbr = g.mbr.kind === 'legacy' || g.mbr.kind === 'hybrid';
  return {
    ...(diskGuid && diskGuid !== ZERO_GUID ? { diskGuid } : {}),
    ...(readAsMbr && g.mbr.diskSignature !== 0 ? { mbrSignature: hex32(g.mbr.diskSignature) } : {}),
  };
}

/**
 * From this many partitions on, a report's list is built when something first reads it: at
 * 32,768 entries, building it costs more than checking the table, and the human check shows only
 * how many there are. Short lists are built at once, as plain properties are cheaper to read.
 */
const LAZY_LIST_FROM = 1024;

/** What lazily listed reports will list: how many, and their GUIDs, are known before the lists are built. */
const lazyFacts = new WeakMap<CheckReport, readonly PartitionFacts[]>();

/** How many partitions a report lists, without building a lazy list. */
export function partitionCount(report: CheckReport): number {
  return lazyFacts.get(report)?.length ?? report.partitions.length;
}

/**
 * The index and unique GUID of the first `limit` partitions a report lists, without building a
 * lazy list (a scan wants a few GUIDs of each image, not 32,768 partition reports).
 */
export function partitionGuids(report: CheckReport, limit: number): Array<{ index: number; guid: string }> {
  const facts = lazyFacts.get(report);
  const unbuilt = facts !== undefined && Object.getOwnPropertyDescriptor(report, 'partitions')?.get !== undefined;
  if (unbuilt) return facts.slice(0, limit).map((f) => ({ index: f.entry.index, guid: f.entry.uniqueGuid }));
  return report.partitions.slice(0, limit).map((p) => ({ index: p.index, guid: p.guid }));
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

