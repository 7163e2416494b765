import { openDisk } from '../disk/open.js';
import { writableDisk } from '../disk/block-source.js';
import { readJournal } from '../write/journal.js';
import { restoreFileRegions, undoJournal } from '../write/undo.js';
import { EXIT, UsageError } from './errors.js';
import { loadGpt, type LoadedGpt } from '../read/load-gpt.js';
import { tellTheOs } from './write-flow.js';
import { ask } from './prompt.js';

export interface UndoOptions {
  yes?: boolean;
  force?: boolean;
  json?: boolean;
  disk?: string;
}

/** `gptdoctor undo <undo-file>`: restore every original byte a write command changed. */
export async function runUndo(file: string, options: UndoOptions): Promise<number> {
  const { journal } = await readJournal(file);
  const diskPath = options.disk ?? journal.source.path;
  const what = `undo rewrites ${journal.writes.length} region(s) of ${diskPath} with the bytes they held before \`${journal.command}\``;
  if (!options.yes) {
    if (!process.stdin.isTTY) throw new UsageError(`${what}; pass --yes to do it`);
    const answer = await ask(`${what}. Go ahead? [y/N] `);
    if (answer !== 'yes') {
      process.stderr.write(answer === 'no' ? 'Nothing was written.\n' : '\naborted, nothing was written\n');
      return answer === 'interrupted' ? EXIT.INTERRUPTED : EXIT.CANNOT_RUN;
    }
  }
  const disk = await openDisk(diskPath, { writable: true });
  let closed = false;
  try {
    const result = await undoJournal(file, writableDisk(disk), {
      reopen: () => openDisk(diskPath),
      force: Boolean(options.force),
      restoreContainer: async (regions) => {
        // The container's own headers go back through the file itself, once the container is closed.
        closed = true;
        await disk.close();
        await restoreFileRegions(diskPath, regions);
      },
    });
    const ok = result.problems.length === 0;
    // A device's kernel learns the restored table, as after any write.
    const told = ok && !closed && disk.rereadPartitionTable ? await tellTheOs(disk, await withFresh(diskPath)) : undefined;
    if (told && !options.json) process.stderr.write(`Note: ${told}.\n`);
    if (options.json) process.stdout.write(JSON.stringify({ undoFile: file, disk: diskPath, ...result, verified: ok }, null, 2) + '\n');
    else if (ok) process.stdout.write(`Restored ${result.restored} region(s) of ${diskPath}${result.alreadyRestored ? ` (${result.alreadyRestored} already held the original bytes)` : ''}; verified.\n`);
    if (!ok) process.stderr.write(`gptdoctor: undo could not be verified:\n${result.problems.map((p) => `  ${p}`).join('\n')}\n`);
    return ok ? EXIT.OK : EXIT.CANNOT_RUN;
  } finally {
    if (!closed) await disk.close();
  }
}

/** The table as it now is on the disk, read through a fresh open. */
async function withFresh(diskPath: string): Promise<LoadedGpt> {
  const fresh = await openDisk(diskPath);
  try {
    return await loadGpt(fresh);
  } finally {
    await fresh.close();
  }
}
