import { checkLoaded } from '../check/check.js';
import { planRepair } from '../repair/plan-repair.js';
import { parseProfile } from './check.js';
import { parseSectorSize } from './errors.js';
import { runWrite, type WriteFlags } from './write-flow.js';

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
  return runWrite(disk, options, sectorSize !== undefined ? { sectorSize } : {}, async (g) => {
    const report = await checkLoaded(g, disk, profile);
    return planRepair(g, {
      command: `gptdoctor repair ${process.argv.slice(3).join(' ')}`,
      findings: report.findings,
      applyBootFixes: report.profileApplied !== 'structure',
      keepHybrid: Boolean(options.keepHybrid),
      replaceMbr: Boolean(options.replaceMbr),
    });
  });
}
