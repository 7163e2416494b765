import { checkLoaded } from '../report/check-report.js';
import { planRepair } from '../plan/plan-repair.js';
import { parseProfile } from './check.js';
import { openDisk } from '../disk/open.js';
import { loadGpt, type LoadOptions } from '../read/load-gpt.js';
import { EXIT, parseSectorSize } from './errors.js';
import { runWrite, type WriteFlags } from './write-flow.js';
import { typedCommand } from './format.js';
import { displayPath } from '../disk/url-redact.js';

export interface RepairCliOptions extends WriteFlags {
  profile?: string;
  sectorSize?: string;
  keepHybrid?: boolean;
  replaceMbr?: boolean;
}

/** `gptdoctor repair <disk>`: fix what check found in the structure (and boot layout). */
export async function runRepair(disk: string, options: RepairCliOptions): Promise<number> {
  const profile = parseProfile(options.profile);
  const sectorSize = parseSectorSize(options.sectorSize);
  const load = sectorSize !== undefined ? { sectorSize } : {};
  return runWrite(disk, options, load, async (g) => {
    const report = await checkLoaded(g, displayPath(disk), profile);
    return planRepair(g, {
      command: typedCommand('repair'),
      findings: report.findings,
      applyBootFixes: report.profileApplied !== 'structure',
      keepHybrid: Boolean(options.keepHybrid),
      replaceMbr: Boolean(options.replaceMbr),
    });
  }, (target) => structuralErrorsLeft(target, load));
}

/**
 * After repair, the structure must check clean. What repair leaves on purpose (it never changes a
 * partition GUID, so a duplicate stays) is listed with its own fix line, and the exit status is 1,
 * as check's would be: a 0 from repair always means a structurally clean disk.
 */
async function structuralErrorsLeft(target: string, load: LoadOptions): Promise<number> {
  const source = await openDisk(target);
  let errors;
  try {
    errors = (await checkLoaded(await loadGpt(source, load), displayPath(target), 'structure')).findings.filter((f) => f.severity === 'error');
  } finally {
    await source.close();
  }
  if (!errors.length) return EXIT.OK;
  const lines = errors.map((f) => `  ${f.code}: ${f.message}${f.fix ? `\n    fix: ${f.fix}` : ''}`);
  process.stderr.write(`gptdoctor: repair keeps partition GUIDs and entries as they are, so ${displayPath(target)} still has ${errors.length === 1 ? 'this error' : 'these errors'}:\n${lines.join('\n')}\n`);
  return EXIT.FINDINGS;
}
