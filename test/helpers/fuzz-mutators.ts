import { pick, below, setUint, boundary, mutateField, crc32c, type Field, type Mutator } from './fuzz-fields.js';

/** Field-aware mutators for VHDX, qcow2 and VMDK (see fuzz-fields.ts for the common parts and GPT and VHD). */
const MiB = 1024 * 1024;

export const KiB = 1024;

export function vhdxFix(b: Buffer, at: number, length: number): void {
  b.writeUInt32LE(0, at + 4);
  b.writeUInt32LE(crc32c(b.subarray(at, at + length)), at + 4);
}

export function guidText(b: Buffer, at: number): string {
  const h = (from: number, to: number, reverse: boolean): string => {
    const bytes = [...b.subarray(at + from, at + to)];
    return (reverse ? bytes.reverse() : bytes).map((x) => x.toString(16).padStart(2, '0')).join('');
  };
  return `${h(0, 4, true)}-${h(4, 6, true)}-${h(6, 8, true)}-${h(8, 10, false)}-${h(10, 16, false)}`.toUpperCase();
}

export const vhdxMutator: Mutator = (rand, b) => {
  const regionsAt = 192 * KiB;
  const count = b.readUInt32LE(regionsAt + 8);
  const regions = new Map<string, { entry: number; offset: number; length: number }>();
  for (let i = 0; i < count; i++) {
    const e = regionsAt + 16 + i * 32;
    regions.set(guidText(b, e), { entry: i, offset: Number(b.readBigUInt64LE(e + 16)), length: b.readUInt32LE(e + 24) });
  }
  const bat = regions.get('2DC27766-F623-4200-9D64-115E9BFD4A08')!;
  const meta = regions.get('8B7CA206-4790-4B9A-B8FE-575F050F886E')!;
  const items = new Map<string, { entry: number; offset: number }>();
  for (let i = 0; i < b.readUInt16LE(meta.offset + 10); i++) {
    const e = meta.offset + 32 + i * 32;
    items.set(guidText(b, e), { entry: i, offset: meta.offset + b.readUInt32LE(e + 16) });
  }
  const related = [0, 64 * KiB, 128 * KiB, 192 * KiB, 256 * KiB, MiB, bat.offset, meta.offset, b.length];
  const what = pick(rand, ['header', 'region', 'region', 'metadata', 'item', 'item', 'bat', 'bat'] as const);
  if (what === 'header') {
    const slots = pick(rand, [[64 * KiB], [128 * KiB], [64 * KiB, 128 * KiB]]);
    const field = pick(rand, [
      { name: 'sequenceNumber', offset: 8, width: 8, endian: 'le' },
      { name: 'logGuid', offset: 48, width: 8, endian: 'le' },
      { name: 'logVersion', offset: 64, width: 2, endian: 'le' },
      { name: 'version', offset: 66, width: 2, endian: 'le' },
      { name: 'logLength', offset: 68, width: 4, endian: 'le', related },
      { name: 'logOffset', offset: 72, width: 8, endian: 'le', related },
    ] satisfies Field[]);
    const value = boundary(rand, b, { ...field, offset: slots[0]! + field.offset }, b.length);
    for (const s of slots) {
      setUint(b, s + field.offset, field.width, 'le', value);
      vhdxFix(b, s, 4 * KiB);
    }
    return `header@${slots.map((s) => s / KiB).join('+')}K ${field.name}=0x${value.toString(16)}`;
  }
  if (what === 'region') {
    const tables = pick(rand, [[192 * KiB], [256 * KiB], [192 * KiB, 256 * KiB]]);
    const entry = below(rand, count + 1);
    const fields: Field[] = [
      { name: 'entryCount', offset: 8, width: 4, endian: 'le', extra: [2047n, 2048n] },
      { name: `region[${entry}].fileOffset`, offset: 16 + entry * 32 + 16, width: 8, endian: 'le', related },
      { name: `region[${entry}].length`, offset: 16 + entry * 32 + 24, width: 4, endian: 'le', related },
      { name: `region[${entry}].required`, offset: 16 + entry * 32 + 28, width: 4, endian: 'le' },
    ];
    const field = pick(rand, fields);
    const value = boundary(rand, b, { ...field, offset: tables[0]! + field.offset }, b.length);
    for (const t of tables) {
      setUint(b, t + field.offset, field.width, 'le', value);
      if (rand() < 0.2) b.copy(b, t + 16 + 32, t + 16, t + 32); // both entries name the same region
      vhdxFix(b, t, 64 * KiB);
    }
    return `region table@${tables.map((t) => t / KiB).join('+')}K ${field.name}=0x${value.toString(16)}`;
  }
  if (what === 'metadata') {
    const entry = below(rand, items.size + 1);
    const e = meta.offset + 32 + entry * 32;
    const field = pick(rand, [
      { name: 'entryCount', offset: meta.offset + 10, width: 2, endian: 'le', extra: [2047n, 2048n] },
      { name: `item[${entry}].offset`, offset: e + 16, width: 4, endian: 'le', related: [0, 64 * KiB, meta.length, meta.length - 4] },
      { name: `item[${entry}].length`, offset: e + 20, width: 4, endian: 'le', related: [0, 64 * KiB, meta.length, MiB + 1] },
      { name: `item[${entry}].flags`, offset: e + 24, width: 4, endian: 'le', extra: [2n, 4n, 6n] },
    ] satisfies Field[]);
    return `metadata table ${mutateField(rand, b, field, b.length)}`;
  }
  if (what === 'item') {
    const item = (id: string): number => items.get(id)!.offset;
    const field = pick(rand, [
      { name: 'blockSize', offset: item('CAA16737-FA36-4D43-B3B6-33F0AA44E76B'), width: 4, endian: 'le', extra: [MiB, 256 * MiB, 512 * MiB, 3 * MiB, 1].map(BigInt) },
      { name: 'fileParameters.flags', offset: item('CAA16737-FA36-4D43-B3B6-33F0AA44E76B') + 4, width: 4, endian: 'le', extra: [1n, 2n, 3n] },
      { name: 'virtualDiskSize', offset: item('2FA54224-CD1B-4876-B211-5DBED83BF4B8'), width: 8, endian: 'le', related, extra: [BigInt(64 * 1024 * 1024 * MiB), BigInt(64 * 1024 * 1024 * MiB + 1), 511n, 513n] },
      { name: 'logicalSectorSize', offset: item('8141BF1D-A96F-4709-BA47-F233A8FAAB5F'), width: 4, endian: 'le', extra: [512n, 4096n, 1024n] },
      { name: 'physicalSectorSize', offset: item('CDA348C7-445D-4471-9CC9-E9885251C556'), width: 4, endian: 'le', extra: [512n, 4096n, 1024n] },
    ] satisfies Field[]);
    return `metadata item ${mutateField(rand, b, field, b.length)}`;
  }
  // BAT entries: state in bits 0-2, file offset in MiB from bit 20.
  const index = below(rand, 24);
  const at = bat.offset + index * 8;
  if (rand() < 0.5) {
    const state = BigInt(pick(rand, [0, 1, 2, 3, 4, 5, 6, 6, 7, 7]));
    const mib = boundary(rand, b, { name: 'mib', offset: at, width: 8, endian: 'le', unit: MiB, related }, b.length) & ((1n << 44n) - 1n);
    b.writeBigUInt64LE((mib << 20n) | state, at);
    return `BAT[${index}] state=${state} offset=${mib} MiB`;
  }
  return `BAT ${mutateField(rand, b, { name: `bat[${index}]`, offset: at, width: 8, endian: 'le', related }, b.length)}`;
};

// ---------------------------------------------------------------------------------------------
// qcow2 (no checksums): header fields, header extensions, L1 and L2 entries. Big-endian.

export const qcow2Mutator: Mutator = (rand, b) => {
  const clusterBits = b.readUInt32BE(20);
  const cluster = 2 ** clusterBits;
  const l1At = Number(b.readBigUInt64BE(40));
  const l1Size = b.readUInt32BE(36);
  const mask = 0x00ff_ffff_ffff_fe00n;
  const l2s: number[] = [];
  for (let i = 0; i < l1Size; i++) {
    const o = Number(b.readBigUInt64BE(l1At + i * 8) & mask);
    if (o) l2s.push(o);
  }
  const refcountAt = Number(b.readBigUInt64BE(48));
  const related = [0, 72, 104, cluster, l1At, refcountAt, ...l2s, b.length];
  const flags = [1n << 63n, 1n << 62n, 1n];
  const what = pick(rand, ['header', 'header', 'extension', 'l1', 'l2', 'l2', 'l2'] as const);
  if (what === 'header') {
    const field = pick(rand, [
      { name: 'version', offset: 4, width: 4, endian: 'be', extra: [2n, 3n, 4n] },
      { name: 'backingOffset', offset: 8, width: 8, endian: 'be', related },
      { name: 'backingSize', offset: 16, width: 4, endian: 'be', extra: [1n, 8n, 1023n, 1024n] },
      { name: 'clusterBits', offset: 20, width: 4, endian: 'be', extra: [8n, 9n, 12n, 20n, 21n, 22n, 31n] },
      { name: 'size', offset: 24, width: 8, endian: 'be', related, extra: [BigInt(Number.MAX_SAFE_INTEGER), 1n << 60n, 511n] },
      { name: 'cryptMethod', offset: 32, width: 4, endian: 'be' },
      { name: 'l1Size', offset: 36, width: 4, endian: 'be', extra: [32n * 1024n * 1024n, 32n * 1024n * 1024n + 1n, 0n, 1n] },
      { name: 'l1Offset', offset: 40, width: 8, endian: 'be', related },
      { name: 'refcountOffset', offset: 48, width: 8, endian: 'be', related },
      { name: 'incompatible', offset: 72, width: 8, endian: 'be', extra: [1n, 2n, 4n, 8n, 16n, 12n, 1n << 5n] },
      { name: 'headerLength', offset: 100, width: 4, endian: 'be', extra: [72n, 104n, 105n, 112n, BigInt(cluster), 4096n, 4104n] },
      { name: 'compressionType', offset: 104, width: 1, endian: 'be', extra: [0n, 1n, 2n] },
    ] satisfies Field[]);
    let label = `header ${mutateField(rand, b, field, b.length)}`;
    if (field.name === 'backingOffset' && rand() < 0.5) {
      // A backing name that resolves: the image itself (a loop), its raw seed, or a missing file.
      const name = pick(rand, ['case-qcow2', 'case-qcow2-compressed', 'seed.raw', 'seed.qcow2', 'missing.img', '../../../../dev/zero', 'seed.qcow2c', '.']);
      const at = 4096 - 64;
      b.write(name.padEnd(48, '\0'), at, 'latin1');
      b.writeBigUInt64BE(BigInt(at), 8);
      b.writeUInt32BE(name.length, 16);
      label = `header backing file "${name}"`;
    }
    return label;
  }
  if (what === 'extension') {
    // The extension area after the header: a "DATA" (external data file) or other extension.
    const at = b.readUInt32BE(4) === 3 ? b.readUInt32BE(100) : 72;
    const type = pick(rand, [0x44415441, 0xe2792aca, 0x6803f857, 0x23852875, 0x0537be77, 0]);
    b.writeUInt32BE(type, at);
    const field: Field = { name: 'extension.length', offset: at + 4, width: 4, endian: 'be', extra: [0n, 7n, 8n, 1023n, 1024n, BigInt(cluster - at - 8), BigInt(cluster - at - 7)] };
    const label = mutateField(rand, b, field, b.length);
    if (type === 0x44415441) b.write(pick(rand, ['seed.raw', 'missing.data', 'case-qcow2', 'seed.qcow2']), at + 8, 'latin1');
    if (rand() < 0.6) b.writeBigUInt64BE(b.readBigUInt64BE(72) | pick(rand, [4n, 8n, 12n]), 72);
    return `extension type 0x${type.toString(16)} ${label}`;
  }
  if (what === 'l1') {
    const index = below(rand, Math.max(1, l1Size + 1));
    const field: Field = { name: `l1[${index}]`, offset: l1At + index * 8, width: 8, endian: 'be', related, extra: related.map((o) => (1n << 63n) | BigInt(o)) };
    return `L1 ${mutateField(rand, b, field, b.length)}`;
  }
  // L2 entries: allocated ones (where data is), with flag bits and offsets, or compressed ones.
  const l2 = l2s.length ? pick(rand, l2s) : l1At;
  const used: number[] = [];
  for (let i = 0; i < cluster / 8; i++) if (b.readBigUInt64BE(l2 + i * 8) !== 0n) used.push(i);
  const index = used.length && rand() < 0.8 ? pick(rand, used) : below(rand, cluster / 8);
  const at = l2 + index * 8;
  const entry = b.readBigUInt64BE(at);
  if (entry & (1n << 62n) && rand() < 0.7) {
    // A compressed cluster: host offset in bits 0..x-1, (sectors - 1) in bits x..61.
    const x = 62n - BigInt(clusterBits - 8);
    const part = pick(rand, ['offset', 'sectors'] as const);
    const bits = part === 'offset' ? x : 62n - x;
    const choices = [0n, 1n, (1n << bits) - 1n, BigInt(b.length), BigInt(b.length - 1), BigInt(b.length + 512), 511n, 512n];
    const value = pick(rand, choices) & ((1n << bits) - 1n);
    const offset = part === 'offset' ? value : entry & ((1n << x) - 1n);
    const sectors = part === 'sectors' ? value : (entry >> x) & ((1n << (62n - x)) - 1n);
    b.writeBigUInt64BE((1n << 62n) | (sectors << x) | offset, at);
    return `L2 compressed[${index}] ${part}=0x${value.toString(16)}`;
  }
  const base = boundary(rand, b, { name: 'l2', offset: at, width: 8, endian: 'be', related }, b.length);
  const value = rand() < 0.5 ? (base & mask) | pick(rand, flags) : base;
  b.writeBigUInt64BE(value, at);
  return `L2[${index}]=0x${value.toString(16)}`;
};

// ---------------------------------------------------------------------------------------------
// VMDK hosted sparse extents (monolithicSparse, streamOptimized): header, grain directory and
// tables, and the embedded descriptor. Little-endian, no checksums.

export function vmdkMutator(stream: boolean): Mutator {
  return (rand, b) => {
    // streamOptimized keeps the real header (with the grain directory offset) in its footer.
    const footerAt = b.length - 1024;
    const effective = stream ? footerAt : 0;
    const gdAt = Number(b.readBigUInt64LE(effective + 56)) * 512;
    const gtes = b.readUInt32LE(effective + 44);
    const descAt = Number(b.readBigUInt64LE(28)) * 512;
    const descSize = Number(b.readBigUInt64LE(36)) * 512;
    const gd: number[] = [];
    for (let i = 0; gdAt + i * 4 + 4 <= b.length && i < 64; i++) {
      const s = b.readUInt32LE(gdAt + i * 4);
      if (s) gd.push(s * 512);
    }
    const related = [0, 512, descAt, gdAt, ...gd.slice(0, 4), footerAt, b.length];
    const what = pick(rand, ['header', 'header', 'gd', 'gt', 'gt', 'descriptor'] as const);
    if (what === 'header') {
      const headers = stream ? pick(rand, [[0], [footerAt], [0, footerAt]]) : [0];
      const field = pick(rand, [
        { name: 'version', offset: 4, width: 4, endian: 'le', extra: [1n, 2n, 3n, 4n] },
        { name: 'flags', offset: 8, width: 4, endian: 'le', extra: [1n, 3n, 4n, 1n << 16n, (1n << 16n) | (1n << 17n)] },
        { name: 'capacity', offset: 12, width: 8, endian: 'le', unit: 512, related, extra: [1n << 32n, 1n << 44n, BigInt(Math.floor(Number.MAX_SAFE_INTEGER / 512)) + 1n] },
        { name: 'grainSize', offset: 20, width: 8, endian: 'le', extra: [1n, 2n, 3n, 8n, 128n, 2048n, 4096n] },
        { name: 'descriptorOffset', offset: 28, width: 8, endian: 'le', unit: 512, related },
        { name: 'descriptorSize', offset: 36, width: 8, endian: 'le', extra: [1n, 20n, 128n, 129n, 1n << 40n] },
        { name: 'numGTEsPerGT', offset: 44, width: 4, endian: 'le', extra: [1n, 512n, 4096n, 4097n] },
        { name: 'rgdOffset', offset: 48, width: 8, endian: 'le', unit: 512, related },
        { name: 'gdOffset', offset: 56, width: 8, endian: 'le', unit: 512, related, extra: [0xffff_ffff_ffff_ffffn] },
        { name: 'overHead', offset: 64, width: 8, endian: 'le', unit: 512, related },
        { name: 'compressAlgorithm', offset: 77, width: 2, endian: 'le', extra: [0n, 1n, 2n] },
      ] satisfies Field[]);
      const value = boundary(rand, b, { ...field, offset: headers[0]! + field.offset }, b.length);
      for (const h of headers) setUint(b, h + field.offset, field.width, 'le', value);
      return `header@${headers.join('+')} ${field.name}=0x${value.toString(16)}`;
    }
    if (what === 'gd') {
      const index = below(rand, Math.max(1, gd.length + 1));
      return `GD ${mutateField(rand, b, { name: `gd[${index}]`, offset: gdAt + index * 4, width: 4, endian: 'le', unit: 512, related }, b.length)}`;
    }
    if (what === 'gt') {
      const gt = gd.length ? pick(rand, gd) : gdAt;
      const used: number[] = [];
      for (let i = 0; i < gtes && gt + i * 4 + 4 <= b.length; i++) if (b.readUInt32LE(gt + i * 4)) used.push(i);
      const index = used.length && rand() < 0.8 ? pick(rand, used) : below(rand, gtes);
      const field: Field = { name: `gt@${gt}[${index}]`, offset: gt + index * 4, width: 4, endian: 'le', unit: 512, related: [...related, b.length - 512, b.length - 1] };
      if (field.offset + 4 > b.length) return 'GT (none)';
      if (stream && rand() < 0.4) {
        // The grain's marker: its compressed length (12 bytes before the data: LBA u64, size u32).
        const grainAt = b.readUInt32LE(field.offset) * 512;
        if (grainAt && grainAt + 12 <= b.length) {
          return `grain marker ${mutateField(rand, b, { name: 'marker.size', offset: grainAt + 8, width: 4, endian: 'le', extra: [0n, 1n, 12n, 65536n, 131072n + 1024n, 131072n + 1025n] }, b.length)}`;
        }
      }
      return `GT ${mutateField(rand, b, field, b.length)}`;
    }
    // The embedded descriptor text: extent sizes, createType, parent lines.
    if (!descAt || !descSize) return 'descriptor (none)';
    const text = b.subarray(descAt, descAt + descSize).toString('latin1').replace(/\0[\s\S]*$/, '');
    const capacity = b.readBigUInt64LE(12);
    let changed: string;
    const edit = pick(rand, ['extent', 'createType', 'parent', 'parent', 'garbage'] as const);
    if (edit === 'extent') {
      const size = pick(rand, ['0', '1', String(capacity - 1n), String(capacity + 1n), '9007199254740993', '18446744073709551615', '99999999999999999999']);
      const type = pick(rand, ['SPARSE', 'FLAT', 'ZERO', 'VMFSSPARSE', 'SESPARSE', 'BOGUS']);
      const name = pick(rand, ['"case-vmdk-sparse"', '"missing.vmdk"', '""', '"seed.raw" 0', '"seed.raw" 99999999999']);
      changed = text.replace(/^(RW|RDONLY|NOACCESS)\s+\d+\s+\S+\s+"[^"]*".*$/m, `${pick(rand, ['RW', 'RDONLY', 'NOACCESS'])} ${size} ${type} ${name}`);
    } else if (edit === 'createType') {
      changed = text.replace(/^createType=.*$/m, `createType="${pick(rand, ['monolithicFlat', 'twoGbMaxExtentSparse', 'vmfs', 'streamOptimized', 'seSparse', 'x'.repeat(300)])}"`);
    } else if (edit === 'parent') {
      const hint = pick(rand, ['case-vmdk-sparse', 'case-vmdk-stream', 'seed.raw', 'seed.vmdk', 'seed.stream.vmdk', 'missing.vmdk', '', '/dev/zero', '.']);
      // The CID of the seed itself, so that a parent named here can prove to be the parent.
      const own = /^CID=(\S+)/m.exec(text)?.[1] ?? '12345678';
      const cid = pick(rand, [own, own, 'fffffffe', '00000000', 'ffffffff', 'zz']);
      changed = text.replace(/^parentCID=.*$/m, `parentCID=${cid}\nparentFileNameHint="${hint}"`);
    } else {
      const junk = Buffer.alloc(below(rand, descSize + 1), pick(rand, [0x41, 0x0a, 0x22, 0xff]));
      changed = text.slice(0, below(rand, text.length)) + junk.toString('latin1');
    }
    const bytes = Buffer.alloc(descSize);
    bytes.write(changed.slice(0, descSize), 'latin1');
    bytes.copy(b, descAt);
    return `descriptor ${edit}`;
  };
}

// ---------------------------------------------------------------------------------------------
// The seeds, the case runner and the per-format loops.

/** Mutates `b` (a copy of the seed) in place and describes the mutation. */

