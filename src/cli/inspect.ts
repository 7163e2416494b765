import { withDisk } from '../api.js';
import { cliOpenOptions } from './progress.js';
import { loadGpt } from '../read/load-gpt.js';
import { inspectReport } from '../report/inspect-report.js';
import { renderHexdump } from './hexdump.js';
import { EXIT, parseSectorSize } from './errors.js';
import { printLine } from './print.js';
import { renderInspect } from './render-inspect.js';

export interface InspectOptions {
  json?: boolean;
  sectorSize?: string;
  hexdump?: boolean;
  parent?: string;
}

/** `gptdoctor inspect`: exit 0 when a GPT copy is valid, 1 when the disk has no valid GPT. */
export async function runInspect(disk: string, options: InspectOptions): Promise<number> {
  const sectorSize = parseSectorSize(options.sectorSize);
  const load = sectorSize !== undefined ? { sectorSize } : {};
  const { report, hexdump } = await withDisk(disk, async (source) => {
    const loaded = await loadGpt(source, load);
    return { report: await inspectReport(loaded), hexdump: options.hexdump && !options.json ? renderHexdump(loaded) : '' };
  }, cliOpenOptions(options.parent));
  printLine(options.json ? JSON.stringify(report, null, 2) : renderInspect(report) + hexdump);
  return report.table === 'none' ? EXIT.FINDINGS : EXIT.OK;
}
