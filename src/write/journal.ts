import { sha256Hex as sha256 } from '../sha256.js';
import { open, readFile, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { DiskError, systemErrorCode } from '../disk/block-source.js';
import { ioError } from '../disk/file-source.js';
import type { Plan, PlannedWrite } from '../plan/plan.js';

/**
 * The undo journal: every before-image and after-image of a plan and the identity of the disk,
 * written and fsynced before the first byte of the disk changes. JSON with base64 bytes so a
 * person can read what it holds; the SHA-256 of each image guards against a damaged file.
 */
export interface Journal {
  format: 'gptdoctor-undo';
  version: 1;
  created: string;
  command: string;
  source: Plan['source'];
  writes: Array<{ name: string; lba: number; offset: number; before: string; after: string; beforeSha256: string; afterSha256: string }>;
  /**
   * Container bytes outside the virtual disk that writing changes (the VHDX headers), as they were
   * before: undo puts them back last, so the file ends up byte-identical to the original.
   */
  container?: Array<{ fileOffset: number; before: string; beforeSha256: string }>;
}

/** Larger than any journal: 128-byte entries of 32,768 partitions twice over, base64, before and after. */
const MAX_JOURNAL_BYTES = 64 * 1024 * 1024;


export function journalFromPlan(plan: Plan, container: ReadonlyArray<{ fileOffset: number; bytes: Uint8Array }> = []): Journal {
  return {
    format: 'gptdoctor-undo',
    version: 1,
    created: new Date().toISOString(),
    command: plan.command,
    // An absolute path, so `gptdoctor undo` works from any directory.
    source: plan.source.format === 'device' ? plan.source : { ...plan.source, path: resolve(plan.source.path) },
    writes: plan.writes.map((w) => ({
      name: w.name,
      lba: w.lba,
      offset: w.offset,
      before: Buffer.from(w.before).toString('base64'),
      after: Buffer.from(w.after).toString('base64'),
      beforeSha256: sha256(w.before),
      afterSha256: sha256(w.after),
    })),
    ...(container.length
      ? { container: container.map((c) => ({ fileOffset: c.fileOffset, before: Buffer.from(c.bytes).toString('base64'), beforeSha256: sha256(c.bytes) })) }
      : {}),
  };
}

/** A journal's path, or the names to try in turn (attempt 0, 1, …) until one is not taken. */
export type JournalPath = string | ((attempt: number) => string);

/** How many taken names a JournalPath function may skip before giving up. */
const MAX_NAME_ATTEMPTS = 1000;

/**
 * Writes the journal with O_EXCL (never over an older journal), fsyncs it and its directory, and
 * returns the path it used. With a function, a taken name makes it try the next one.
 */
export async function writeJournal(target: JournalPath, journal: Journal): Promise<string> {
  let handle;
  let path = '';
  for (let attempt = 0; !handle; attempt++) {
    path = typeof target === 'string' ? target : target(attempt);
    try {
      handle = await open(path, 'wx');
    } catch (err) {
      const exists = systemErrorCode(err) === 'EEXIST';
      if (exists && typeof target !== 'string' && attempt < MAX_NAME_ATTEMPTS) continue;
      throw exists ? new DiskError('EEXIST', `undo file ${path} already exists; choose another with --undo-file`) : ioError(err, path, 'create undo file');
    }
  }
  try {
    await handle.writeFile(JSON.stringify(journal, null, 1) + '\n');
    await handle.sync();
  } finally {
    await handle.close();
  }
  const dir = await open(dirname(path), 'r').catch(() => undefined);
  if (dir) {
    await dir.sync().catch(() => undefined); // directories cannot be fsynced everywhere (Windows)
    await dir.close();
  }
  return path;
}

/** Reads and checks a journal; every image must match its recorded SHA-256. */
export async function readJournal(path: string): Promise<{ journal: Journal; writes: PlannedWrite[]; container: Array<{ fileOffset: number; bytes: Uint8Array }> }> {
  let journal: Journal;
  let text: string;
  try {
    const info = await stat(path);
    if (info.isDirectory()) throw new DiskError('EISDIR', `${path} is a directory, not a gptdoctor undo file`);
    // A journal holds a few table regions; anything this large is a disk image or another file.
    if (info.size > MAX_JOURNAL_BYTES) throw new DiskError('EFORMAT', `${path} is not a gptdoctor undo file (${info.size} bytes; an undo file is a small JSON file)`);
    text = await readFile(path, 'utf8');
  } catch (err) {
    if (err instanceof DiskError) throw err;
    throw ioError(err, path, 'read undo file');
  }
  try {
    journal = JSON.parse(text) as Journal;
  } catch {
    throw new DiskError('EFORMAT', `${path} is not a gptdoctor undo file (not JSON)`);
  }
  if (journal?.format !== 'gptdoctor-undo' || journal.version !== 1 || !Array.isArray(journal.writes)) {
    throw new DiskError('EFORMAT', `${path} is not a gptdoctor undo file`);
  }
  const writes = journal.writes.map((w) => {
    const before = new Uint8Array(Buffer.from(w.before, 'base64'));
    const after = new Uint8Array(Buffer.from(w.after, 'base64'));
    if (sha256(before) !== w.beforeSha256 || sha256(after) !== w.afterSha256 || before.length !== after.length) {
      throw new DiskError('EFORMAT', `undo file ${path} is damaged (the ${w.name} image does not match its checksum)`);
    }
    return { name: w.name as PlannedWrite['name'], lba: w.lba, offset: w.offset, before, after };
  });
  const container = (journal.container ?? []).map((c) => {
    const bytes = new Uint8Array(Buffer.from(c.before, 'base64'));
    if (sha256(bytes) !== c.beforeSha256) throw new DiskError('EFORMAT', `undo file ${path} is damaged (container bytes at ${c.fileOffset} do not match their checksum)`);
    return { fileOffset: c.fileOffset, bytes };
  });
  return { journal, writes, container };
}
