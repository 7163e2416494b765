import { loadAddon } from '../disk/device-source.js';
import { openDisk } from '../disk/open.js';
import { loadGpt } from '../read/load-gpt.js';
import { EXIT } from './errors.js';
import { formatBytes, table } from './format.js';

/** `gptdoctor drives`: the machine's whole disks, with the partition style read from each. */
export async function runDrives(options: { json?: boolean }): Promise<number> {
  const drives = await loadAddon().listDrives();
  const rows = [];
  for (const d of drives) {
    let style = 'unreadable';
    try {
      const source = await openDisk(d.path);
      try {
        const g = await loadGpt(source);
        style = g.table !== 'none' ? 'gpt' : g.mbr.kind === 'legacy' ? 'mbr' : g.mbr.kind === 'none' ? 'none' : `damaged gpt (${g.mbr.kind} mbr)`;
      } finally {
        await source.close();
      }
    } catch {
      // an unreadable drive is listed as such
    }
    rows.push({ ...d, partitionStyle: style });
  }
  if (options.json) {
    process.stdout.write(JSON.stringify(rows, null, 2) + '\n');
    return EXIT.OK;
  }
  const lines = table([
    ['Device', 'Size', 'Sectors', 'Style', 'Flags', 'Model'],
    ...rows.map((r) => [r.path, formatBytes(r.size), `${r.logicalSectorSize}/${r.physicalSectorSize}`, r.partitionStyle, [r.removable ? 'removable' : '', r.readOnly ? 'read-only' : ''].filter(Boolean).join(','), r.model]),
  ], 'lr');
  process.stdout.write(lines.join('\n') + '\n');
  return EXIT.OK;
}
