import type { LoadedGpt } from '../read/load-gpt.js';
import type { Candidate } from '../plan/candidate.js';
import { differencesFromDisk, sameAsDisk } from '../plan/recover-compare.js';
import { partitionReport, type PartitionReport } from './inspect-report.js';

/** The JSON contract of `recover --json` (docs/ARCHITECTURE.md §5; README, recover). */
export interface RecoverReport {
  source: { path: string; size: number };
  /** Which copy of the disk's own GPT is valid now: `primary`, `backup` or `none`. */
  currentTable: LoadedGpt['table'];
  candidates: CandidateReport[];
}

export interface CandidateReport {
  rank: number;
  score: number;
  sectorSize: number;
  basis: Candidate['basis'];
  guessedTypes?: NonNullable<Candidate['guessedTypes']>;
  diskGuid: string | null;
  headers: Candidate['headers'];
  evidence: string[];
  /** The candidate is the table the disk uses now. */
  sameAsDisk: boolean;
  /** What restoring it would change, against the disk's current table (or MBR). */
  differencesFromDisk: string[];
  partitions: PartitionReport[];
}

/** Builds the recover report: `disk` as the user named it, the disk's current table, the ranked candidates. */
export function recoverReport(disk: string, current: LoadedGpt, candidates: readonly Candidate[]): RecoverReport {
  return {
    source: { path: disk, size: current.source.size },
    currentTable: current.table,
    candidates: candidates.map((c) => ({
      rank: c.rank,
      score: c.score,
      sectorSize: c.sectorSize,
      basis: c.basis,
      ...(c.guessedTypes ? { guessedTypes: c.guessedTypes } : {}),
      diskGuid: c.diskGuid ?? null,
      headers: c.headers,
      evidence: c.evidence,
      sameAsDisk: sameAsDisk(current, c),
      differencesFromDisk: differencesFromDisk(current, c),
      partitions: c.partitions.map((p) => partitionReport(p, c.sectorSize)),
    })),
  };
}
