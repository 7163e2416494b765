/**
 * Just enough of the PE/COFF format (Microsoft's "PE Format" specification) to check a Windows
 * executable that this machine cannot run: its header and CPU, and a named resource's bytes.
 */
export interface PeImage {
  machine: number;
  /** The data of the first resource found under `name` at any level of the resource tree. */
  resource(name: string): Uint8Array | undefined;
}

export function parsePe(file: Buffer): PeImage {
  if (file.toString('latin1', 0, 2) !== 'MZ') throw new Error('no MZ header');
  const pe = file.readUInt32LE(0x3c);
  if (file.toString('latin1', pe, pe + 4) !== 'PE\0\0') throw new Error('no PE signature');
  const machine = file.readUInt16LE(pe + 4);
  const sectionCount = file.readUInt16LE(pe + 6);
  const optionalSize = file.readUInt16LE(pe + 20);
  const optional = pe + 24;
  if (file.readUInt16LE(optional) !== 0x20b) throw new Error('not a PE32+ image');
  const resourceRva = file.readUInt32LE(optional + 112 + 2 * 8); // data directory 2: resources
  const sections = Array.from({ length: sectionCount }, (_, i) => {
    const at = optional + optionalSize + i * 40;
    return { rva: file.readUInt32LE(at + 12), size: Math.max(file.readUInt32LE(at + 8), file.readUInt32LE(at + 16)), raw: file.readUInt32LE(at + 20) };
  });
  const offsetOf = (rva: number): number => {
    const s = sections.find((x) => rva >= x.rva && rva < x.rva + x.size);
    if (!s) throw new Error(`RVA 0x${rva.toString(16)} is in no section`);
    return s.raw + (rva - s.rva);
  };
  const base = resourceRva ? offsetOf(resourceRva) : 0;

  function find(dir: number, name: string, depth: number, named: boolean): Uint8Array | undefined {
    const entries = file.readUInt16LE(dir + 12) + file.readUInt16LE(dir + 14);
    for (let i = 0; i < entries; i++) {
      const nameField = file.readUInt32LE(dir + 16 + i * 8);
      const target = file.readUInt32LE(dir + 16 + i * 8 + 4);
      let isName = false;
      if (nameField & 0x8000_0000) {
        const at = base + (nameField & 0x7fff_ffff);
        isName = file.toString('utf16le', at + 2, at + 2 + 2 * file.readUInt16LE(at)) === name;
      }
      if (target & 0x8000_0000) {
        if (depth < 3) {
          const found = find(base + (target & 0x7fff_ffff), name, depth + 1, named || isName);
          if (found) return found;
        }
      } else if (named || isName) {
        const entry = base + target;
        const at = offsetOf(file.readUInt32LE(entry));
        return new Uint8Array(file.subarray(at, at + file.readUInt32LE(entry + 4)));
      }
    }
    return undefined;
  }
  return { machine, resource: (name) => (base ? find(base, name, 0, false) : undefined) };
}
