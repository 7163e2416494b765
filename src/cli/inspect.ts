import { inspectDisk } from '../api.js';
import { EXIT, parseSectorSize } from './errors.js';
import { renderInspect } from './render-inspect.js';

export interface InspectOptions {
  json?: boolean;
  sectorSize?: string;
}

/** `gptdoctor inspect`: exit 0 when a GPT copy is valid, 1 when the disk has no valid GPT. */
export async function runInspect(disk: string, options: InspectOptions): Promise<number> {
  const sectorSize = parseSectorSize(options.sectorSize);
  const report = await inspectDisk(disk, sectorSize !== undefined ? { sectorSize } : {});
  process.stdout.write(options.json ? JSON.stringify(report, null, 2) + '\n' : renderInspect(report) + '\n');
  return report.table === 'none' ? EXIT.FINDINGS : EXIT.OK;
}
