/**
 * The VMDK text descriptor (VMware "Virtual Disk Format 5.0", section "The Descriptor File"):
 * either a file of its own (monolithicFlat, twoGbMaxExtent*, snapshots made by VMware) or
 * embedded in a hosted sparse extent. Pure: text in, structure out.
 *
 *   # Disk DescriptorFile
 *   version=1
 *   CID=2ae1bff1
 *   parentCID=ffffffff
 *   createType="twoGbMaxExtentSparse"
 *   parentFileNameHint="base.vmdk"          (snapshots only)
 *   RW 4194304 SPARSE "disk-s001.vmdk"
 *   RW 2097152 FLAT "disk-flat.vmdk" 0
 *   RW 2097152 ZERO
 */

export type ExtentAccess = 'RW' | 'RDONLY' | 'NOACCESS';
export type ExtentType = 'FLAT' | 'SPARSE' | 'ZERO' | 'VMFS' | 'VMFSSPARSE' | 'VMFSRDM' | 'VMFSRAW' | 'SESPARSE';

export interface ExtentLine {
  access: ExtentAccess;
  /** Size of the extent in 512-byte sectors. */
  sectors: number;
  type: ExtentType;
  /** The extent file, as written (relative to the descriptor); absent for ZERO. */
  file?: string;
  /** FLAT/VMFS only: where the extent's data starts in its file, in sectors. */
  offset: number;
}

export interface VmdkDescriptor {
  /** Content ID: changes whenever the disk is written; a snapshot records its parent's. */
  cid?: string;
  /** The parent's CID, or undefined when there is no parent (ffffffff). */
  parentCid?: string;
  parentFileNameHint?: string;
  createType?: string;
  extents: ExtentLine[];
}

/** How a text descriptor begins (VMware writes this line first). */
export const VMDK_DESCRIPTOR_MAGIC = '# Disk DescriptorFile';

/** A text descriptor is a few hundred bytes; a file this large is not one. */
export const MAX_DESCRIPTOR_BYTES = 1024 * 1024;

/** A VMDK never needs more than a few hundred extents (2 GB each); more is a hostile file. */
export const MAX_EXTENTS = 8192;

const EXTENT = /^(RW|RDONLY|NOACCESS)\s+(\d+)\s+(FLAT|SPARSE|ZERO|VMFS|VMFSSPARSE|VMFSRDM|VMFSRAW|SESPARSE)(?:\s+"([^"]*)"(?:\s+(\d+))?)?\s*$/i;
const KEY_VALUE = /^([A-Za-z][\w.]*)\s*=\s*(?:"([^"]*)"|(\S*))\s*$/;

/** Parses a descriptor; throws an Error naming the first line it cannot accept. */
export function parseVmdkDescriptor(text: string): VmdkDescriptor {
  const out: VmdkDescriptor = { extents: [] };
  const lines = text.replace(/\0[\s\S]*$/, '').split(/\r?\n/);
  for (const [i, raw] of lines.entries()) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const extent = EXTENT.exec(line);
    if (extent) {
      const sectors = Number(extent[2]);
      const offset = Number(extent[5] ?? 0);
      if (!Number.isSafeInteger(sectors * 512) || !Number.isSafeInteger(offset * 512)) throw new Error(`line ${i + 1}: extent size or offset out of range`);
      const type = extent[3]!.toUpperCase() as ExtentType;
      if (type !== 'ZERO' && extent[4] === undefined) throw new Error(`line ${i + 1}: a ${type} extent must name its file`);
      out.extents.push({ access: extent[1]!.toUpperCase() as ExtentAccess, sectors, type, file: extent[4], offset });
      if (out.extents.length > MAX_EXTENTS) throw new Error(`more than ${MAX_EXTENTS} extents`);
      continue;
    }
    const kv = KEY_VALUE.exec(line);
    if (!kv) {
      if (/^(RW|RDONLY|NOACCESS)\s/i.test(line)) throw new Error(`line ${i + 1}: unreadable extent "${line.slice(0, 80)}"`);
      continue; // other statements (ddb.*, encoding) are not needed to read the disk
    }
    const value = kv[2] ?? kv[3] ?? '';
    switch (kv[1]!.toLowerCase()) {
      case 'cid':
        out.cid = value.toLowerCase();
        break;
      case 'parentcid':
        if (value.toLowerCase() !== 'ffffffff') out.parentCid = value.toLowerCase();
        break;
      case 'parentfilenamehint':
        out.parentFileNameHint = value;
        break;
      case 'createtype':
        out.createType = value;
        break;
    }
  }
  return out;
}
