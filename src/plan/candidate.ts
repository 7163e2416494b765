import { randomUUID } from 'node:crypto';
import type { GptEntry } from '../gpt/entries.js';
import { GPT_REVISION_1_0, arraySectors } from '../gpt/header.js';
import type { LoadedGpt } from '../read/load-gpt.js';
import type { TableModel } from './table-model.js';

/** One table gptdoctor could restore, with the evidence for it. */
export interface Candidate {
  rank: number;
  score: number;
  sectorSize: number;
  /** 'headers': a CRC-valid header vouches for the array; 'array': an array alone; 'filesystems': outlined from filesystem headers. */
  basis: 'headers' | 'array' | 'filesystems';
  diskGuid?: string;
  firstUsableLba: number;
  lastUsableLba: number;
  entryCount: number;
  entrySize: number;
  array: Uint8Array;
  partitions: GptEntry[];
  headers: Array<{
    lba: number;
    role: 'primary' | 'backup' | 'orphaned backup' | 'stale copy';
    arrayOk: boolean;
    /** Evidence: where the header and its array sit, and their SHA-256. */
    offset: number;
    sha256: string;
    entriesOffset: number;
    entriesSha256: string;
  }>;
  evidence: string[];
  /** Filesystems-basis candidates: each partition's type, and what it was guessed from. */
  guessedTypes?: Array<{ partition: number; type: string; from: string }>;
}

/**
 * The table a candidate becomes on this disk: both copies at their standard places (primary
 * array at LBA 2, backup at the last LBA), the usable range kept unless the disk is now too small.
 */
export function modelFromCandidate(g: LoadedGpt, c: Candidate): TableModel {
  const sectors = arraySectors(c.entryCount, c.entrySize, c.sectorSize);
  const backupEntriesLba = g.lastLba - sectors;
  return {
    sectorSize: c.sectorSize,
    diskGuid: c.diskGuid ?? randomUUID().toUpperCase(),
    firstUsableLba: Math.max(c.firstUsableLba, 2 + sectors),
    lastUsableLba: Math.min(c.lastUsableLba, backupEntriesLba - 1),
    entryCount: c.entryCount,
    entrySize: c.entrySize,
    array: c.array.slice(),
    primaryLba: 1,
    primaryEntriesLba: 2,
    backupLba: g.lastLba,
    backupEntriesLba,
    revision: GPT_REVISION_1_0,
    headerSize: 92,
  };
}
