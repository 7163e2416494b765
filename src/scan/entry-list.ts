import { readFile } from 'node:fs/promises';
import { DiskError, systemErrorCode } from '../disk/block-source.js';

/**
 * Reads a list of images for `scan --from-file`: one path or URL per line, `-` for stdin. Blank
 * lines and lines starting with `#` are skipped; surrounding spaces and a Windows CR are dropped.
 * A list of 100,000 entries is a few MiB, so it is read whole: the scan needs its length for the
 * progress line and for sharding.
 */
export async function readEntryList(file: string): Promise<string[]> {
  let text: string;
  try {
    text = file === '-' ? await readStdin() : await readFile(file, 'utf8');
  } catch (err) {
    const code = systemErrorCode(err);
    throw new DiskError(code, code === 'ENOENT' ? `--from-file ${file}: no such file` : `--from-file ${file}: cannot be read (${code})`);
  }
  return parseEntryList(text);
}

export function parseEntryList(text: string): string[] {
  const entries: string[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line && !line.startsWith('#')) entries.push(line);
  }
  return entries;
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
