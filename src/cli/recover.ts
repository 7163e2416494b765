import { openDisk } from '../disk/open.js';
import { protectiveRecord } from '../gpt/mbr.js';
import { decodeMbr } from '../gpt/mbr.js';
import { findCandidates, type Candidate } from '../recover/candidates.js';
import { shellQuote } from '../check/finding.js';
import { planRecover } from '../plan/plan-recover.js';
import { loadGpt } from '../read/load-gpt.js';
import { recoverReport } from '../report/recover-report.js';
import { EXIT, UsageError, parseSectorSize } from './errors.js';
import { formatBytes, table, typedCommand } from './format.js';
import { displayPath } from '../disk/url-redact.js';
import { cliOpenOptions } from './progress.js';
import { runWrite, type WriteFlags } from './write-flow.js';

export interface RecoverOptions extends WriteFlags {
  sectorSize?: string;
  apply?: string;
  replaceTable?: boolean;
  replaceMbr?: boolean;
}

/**
 * `gptdoctor recover`: hunts the whole disk for GPT structures and ranks the tables it could
 * restore. Read-only unless --apply N, which writes candidate N through the write protocol.
 */
export async function runRecover(disk: string, options: RecoverOptions): Promise<number> {
  const forced = parseSectorSize(options.sectorSize);
  const source = await openDisk(disk, cliOpenOptions(options.parent));
  let candidates: Candidate[];
  let current: Awaited<ReturnType<typeof loadGpt>>;
  try {
    const mbr = decodeMbr(await source.read(0, 512));
    const ee = protectiveRecord(mbr);
    const progress = process.stderr.isTTY
      ? (done: number, total: number): void => void process.stderr.write(`\rhunting: ${Math.floor((done / total) * 100)}% of ${formatBytes(total)}`)
      : undefined;
    // Headers are hunted at every sector size whatever --sector-size says: it only sets the size
    // of a table outlined from filesystems, and a valid GPT at any size is the current table.
    candidates = await findCandidates(source, {
      ...(forced ? { outlineSectorSize: forced } : {}),
      ...(ee && ee.sizeLba !== 0xffffffff ? { pmbrEnd: ee.startLba + ee.sizeLba - 1 } : {}),
      ...(progress ? { progress } : {}),
    });
    if (progress) process.stderr.write('\r\x1b[K');
    current = await loadGpt(source);
    if (current.table === 'none' && forced) current = await loadGpt(source, { sectorSize: forced });
  } finally {
    await source.close();
  }

  if (options.apply !== undefined) {
    const n = Number(options.apply);
    const chosen = candidates.find((c) => c.rank === n);
    if (!chosen) throw new UsageError(`there is no candidate ${options.apply}: recover found ${candidates.length}`);
    const command = typedCommand('recover');
    const flags = { replaceTable: Boolean(options.replaceTable), replaceMbr: Boolean(options.replaceMbr) };
    return runWrite(disk, { ...options, replacesOtherSectorSize: flags.replaceTable }, { sectorSize: chosen.sectorSize }, (g) => planRecover(g, chosen, { command, diskArg: shellQuote(displayPath(disk)), current, ...flags }));
  }

  const shown = displayPath(disk);
  const report = recoverReport(shown, current, candidates);
  if (options.json) {
    process.stdout.write(JSON.stringify(report, null, 2) + '\n');
    return candidates.length ? EXIT.OK : EXIT.FINDINGS;
  }
  if (!candidates.length) {
    process.stdout.write(`${shown}: no GPT header or plausible entry array anywhere on the disk.\n`);
    return EXIT.FINDINGS;
  }
  const lines: string[] = [`${shown}: ${candidates.length} candidate table${candidates.length > 1 ? 's' : ''} (current table: ${current.table}).`];
  for (const c of report.candidates) {
    lines.push('', `Candidate ${c.rank} (score ${c.score}, ${c.sectorSize}-byte sectors${c.diskGuid ? `, disk ${c.diskGuid}` : ''})${c.sameAsDisk ? ' — the table the disk uses now' : ''}`);
    for (const e of c.evidence) lines.push(`  evidence: ${e}`);
    if (!c.sameAsDisk) for (const d of c.differencesFromDisk) lines.push(`  differs: ${d}`);
    const rows = c.partitions.map((r) => [String(r.index), String(r.firstLba), String(r.lastLba), formatBytes(r.size), r.typeName, r.name]);
    lines.push(...table([['#', 'Start', 'End', 'Size', 'Type', 'Name'], ...rows], 'rrrr').map((l) => '    ' + l));
  }
  const guard = current.table !== 'none' ? ' (the disk has a valid GPT: recover writes over it only with --replace-table)' : '';
  lines.push('', `Restore one with: gptdoctor recover ${shellQuote(shown)} --apply N --dry-run, then --yes${guard}`);
  process.stdout.write(lines.join('\n') + '\n');
  return EXIT.OK;
}
