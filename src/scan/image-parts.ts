import { open } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import { parentCandidates } from '../disk/differencing.js';
import { MAX_DESCRIPTOR_BYTES, parseVmdkDescriptor, VMDK_DESCRIPTOR_MAGIC } from '../disk/vmdk-descriptor.js';
import { isDefaultJournalName } from '../write/journal-name.js';

/** A file a directory walk found that is a piece of something else, not a disk of its own. */
export interface ImagePart {
  path: string;
  /** What it belongs to, for the scan summary. */
  partOf: string;
}

/**
 * Splits the files of a directory walk into disks and parts of other things: the extent files
 * that a VMDK descriptor among them names (the descriptor is scanned as the disk; an extent alone
 * is a fragment, or a second copy of the same findings), and gptdoctor's own undo journals.
 */
export async function separateImageParts(files: readonly string[]): Promise<{ images: string[]; parts: ImagePart[] }> {
  const owner = new Map<string, string>();
  for (const file of files) {
    if (isDefaultJournalName(file)) owner.set(resolve(file), 'a gptdoctor undo journal');
    if (!/\.vmdk$/i.test(file)) continue;
    for (const extent of await vmdkExtentFiles(file)) if (resolve(extent) !== resolve(file)) owner.set(resolve(extent), `an extent of ${basename(file)}`);
  }
  const images: string[] = [];
  const parts: ImagePart[] = [];
  for (const file of files) {
    const partOf = owner.get(resolve(file));
    if (partOf) parts.push({ path: file, partOf });
    else images.push(file);
  }
  return { images, parts };
}

/** The extent files a VMDK text descriptor names (none for sparse or unreadable files). */
async function vmdkExtentFiles(path: string): Promise<string[]> {
  let text: string;
  try {
    const handle = await open(path, 'r');
    try {
      const { size } = await handle.stat();
      if (size > MAX_DESCRIPTOR_BYTES) return []; // a sparse VMDK, or not a descriptor
      const bytes = new Uint8Array(size);
      await handle.read(bytes, 0, size, 0);
      text = new TextDecoder().decode(bytes);
    } finally {
      await handle.close();
    }
  } catch {
    return []; // unreadable: the scan itself reports it
  }
  if (!text.startsWith(VMDK_DESCRIPTOR_MAGIC)) return [];
  try {
    return parseVmdkDescriptor(text).extents.flatMap((e) => (e.file ? parentCandidates(path, [e.file]) : []));
  } catch {
    return []; // a damaged descriptor: scanning it reports why
  }
}
