import { describe, expect, it } from 'vitest';
import { applyAttributeSpec, attributeNames, editedAttributes, parseAttributeSpec } from '../src/gpt/attributes.js';
import { parseEntryEditText } from '../src/gpt/entry-edit.js';
import { TYPE_GUIDS } from '../src/gpt/partition-types.js';
import { crc32 } from '../src/gpt/crc32.js';
import { decodeEntry, decodeName, decodeUsedEntries, encodeEntry, encodeName } from '../src/gpt/entries.js';
import { decodeGuid, decodeRepeatedGuid, encodeGuid, normalizeGuid } from '../src/gpt/guid.js';
import { decodeHeader, encodeHeader, isLegalEntrySize } from '../src/gpt/header.js';
import { decodeMbr, encodeProtectiveMbr } from '../src/gpt/mbr.js';
import { validateHeader } from '../src/gpt/validate-header.js';

describe('guid', () => {
  it('decodes the ESP type GUID from its on-disk mixed-endian bytes', () => {
    // C12A7328-F81F-11D2-BA4B-00A0C93EC93B as stored in an entry
    const bytes = Uint8Array.from([0x28, 0x73, 0x2a, 0xc1, 0x1f, 0xf8, 0xd2, 0x11, 0xba, 0x4b, 0x00, 0xa0, 0xc9, 0x3e, 0xc9, 0x3b]);
    expect(decodeGuid(bytes)).toBe('C12A7328-F81F-11D2-BA4B-00A0C93EC93B');
    const back = new Uint8Array(16);
    encodeGuid('{c12a7328-f81f-11d2-ba4b-00a0c93ec93b}', back);
    expect(back).toEqual(bytes);
  });
  it('decodes a repeated GUID as the call before did, and a changed one anew, whichever array holds it', () => {
    const esp = 'C12A7328-F81F-11D2-BA4B-00A0C93EC93B';
    const basic = 'EBD0A0A2-B9E5-4433-87C0-68B6B72699C7';
    const table = new Uint8Array(64);
    encodeGuid(esp, table, 0);
    encodeGuid(esp, table, 16);
    encodeGuid(basic, table, 32); // and 48..63 stays zero
    expect([0, 16, 32, 48, 0].map((at) => decodeRepeatedGuid(table, at))).toEqual([esp, esp, basic, '00000000-0000-0000-0000-000000000000', esp]);
    const other = new Uint8Array(16);
    encodeGuid(basic, other);
    expect(decodeRepeatedGuid(other)).toBe(basic);
    other[15] = other[15]! ^ 1; // the same array, one byte changed: never the remembered text
    expect(decodeRepeatedGuid(other)).toBe(decodeGuid(other));
    expect(decodeRepeatedGuid(other.subarray(0, 8))).toBe(decodeGuid(other.subarray(0, 8))); // cut short: missing bytes read as zero
  });
  it('normalizes or rejects text', () => {
    expect(normalizeGuid(' ebd0a0a2-b9e5-4433-87c0-68b6b72699c7 ')).toBe('EBD0A0A2-B9E5-4433-87C0-68B6B72699C7');
    expect(normalizeGuid('EBD0A0A2-B9E5-4433-87C0-68B6B72699C')).toBeUndefined();
    expect(() => encodeGuid('nope', new Uint8Array(16))).toThrow(TypeError);
  });
});

describe('crc32', () => {
  it('matches the IEEE check value', () => {
    expect(crc32(new TextEncoder().encode('123456789'))).toBe(0xcbf43926);
  });
});

function sampleHeader(sectorSize = 512): Uint8Array {
  const base = new Uint8Array(sectorSize);
  return encodeHeader(
    {
      signature: 'EFI PART', revision: 0x10000, headerSize: 92, reserved: 0, myLba: 1, alternateLba: 131071,
      firstUsableLba: 34, lastUsableLba: 131038, diskGuid: '11111111-2222-3333-4444-555555555555',
      entriesLba: 2, entryCount: 128, entrySize: 128, entriesCrc32: 0xdeadbeef,
    },
    base,
  );
}

describe('header', () => {
  it('round-trips byte for byte and validates', () => {
    const sector = sampleHeader();
    const h = decodeHeader(sector);
    expect(h.headerCrc32).toBe(h.computedHeaderCrc32);
    expect(encodeHeader(h, h.raw)).toEqual(sector);
    expect(validateHeader(h, { lba: 1, sectorSize: 512, totalSectors: 131072, which: 'primary' })).toEqual([]);
  });
  it('keeps unknown bytes past the header through an edit', () => {
    const sector = sampleHeader();
    sector[400] = 0x5a;
    const h = decodeHeader(sector);
    const edited = encodeHeader({ ...h, lastUsableLba: 131000 }, h.raw);
    expect(edited[400]).toBe(0x5a);
    expect(decodeHeader(edited).lastUsableLba).toBe(131000);
    expect(validateHeader(decodeHeader(edited), { lba: 1, sectorSize: 512, totalSectors: 131072, which: 'primary' }).map((p) => p.field)).toEqual(['reserved-tail']);
  });
  it('names each fatal problem', () => {
    const h = decodeHeader(sampleHeader());
    const bad = decodeHeader(encodeHeader({ ...h, entrySize: 7, entryCount: 0, myLba: 5 }, h.raw));
    const fields = validateHeader(bad, { lba: 1, sectorSize: 512, totalSectors: 131072, which: 'primary' }).filter((p) => p.fatal).map((p) => p.field);
    expect(fields).toEqual(expect.arrayContaining(['entry-size', 'entry-count', 'my-lba']));
    const corrupt = sampleHeader();
    corrupt[40] = corrupt[40]! ^ 1;
    expect(validateHeader(decodeHeader(corrupt), { lba: 1, sectorSize: 512, totalSectors: 131072, which: 'primary' }).map((p) => p.field)).toContain('crc');
  });
  it('accepts only 128 × 2^n entry sizes', () => {
    expect([128, 256, 512, 4096].every(isLegalEntrySize)).toBe(true);
    expect([0, 7, 8, 136, 384, 2 ** 31 + 128].some(isLegalEntrySize)).toBe(false);
  });
  it('decodes garbage and short sectors without throwing', () => {
    expect(() => decodeHeader(new Uint8Array(3))).not.toThrow();
    expect(decodeHeader(new Uint8Array(0)).signature).toHaveLength(0);
  });
});

describe('entries', () => {
  const entry = (): Uint8Array => {
    const raw = new Uint8Array(128);
    return encodeEntry(
      { typeGuid: 'C12A7328-F81F-11D2-BA4B-00A0C93EC93B', uniqueGuid: 'AAAAAAAA-BBBB-CCCC-DDDD-EEEEEEEEEEEE', firstLba: 2048, lastLba: 206847, attributes: 1n << 63n, name: 'EFI system partition' },
      raw,
    );
  };
  it('round-trips and keeps reserved bytes of larger entries', () => {
    const big = new Uint8Array(256);
    big.set(entry());
    big[200] = 0x77;
    const e = decodeEntry(big, 1);
    expect(e.name).toBe('EFI system partition');
    expect(e.attributes).toBe(1n << 63n);
    expect(encodeEntry(e, e.raw)).toEqual(big);
  });
  it('decodes names with surrogate pairs and stops at NUL', () => {
    const name = '😀 ホーム';
    const bytes = encodeName(name);
    expect(decodeName(bytes)).toBe(name);
    expect(() => encodeName('x'.repeat(37))).toThrow(/at most 36/);
    expect(encodeName('x'.repeat(36))).toHaveLength(72);
  });
  it('lists used slots with their real index, decoded where they lie in the array', () => {
    const array = new Uint8Array(128 * 4);
    array.set(entry(), 128 * 2);
    const used = decodeUsedEntries(array, 128, 4);
    expect(used.map((e) => e.index)).toEqual([3]);
    const alone = decodeEntry(array.slice(256, 384), 3);
    expect(used[0]!.fields()).toEqual(alone.fields());
    expect(used[0]!.fields()).toEqual({ typeGuid: alone.typeGuid, uniqueGuid: alone.uniqueGuid, firstLba: alone.firstLba, lastLba: alone.lastLba, attributes: 1n << 63n, name: 'EFI system partition' });
    expect(used[0]!.raw).toEqual(alone.raw);
    expect([used[0]!.array, used[0]!.offset, used[0]!.size]).toEqual([array, 256, 128]);
    // decodeEntry keeps a copy: writing an edit over the bytes it came from changes nothing it says later.
    const bytes = array.slice(256, 384);
    const before = decodeEntry(bytes, 3);
    bytes.set(encodeEntry({ ...before.fields(), name: 'x', typeGuid: '0FC63DAF-8483-4772-8E79-3D69D8477DE4' }, bytes));
    expect(decodeEntry(bytes, 3).name).toBe('x');
    expect([before.name, before.typeGuid]).toEqual([alone.name, alone.typeGuid]);
  });
});

describe('attributes', () => {
  it('names bits by meaning and others by number', () => {
    expect(attributeNames(0x8000000000000001n)).toEqual(['required', 'no-drive-letter']);
    expect(attributeNames(1n << 5n)).toEqual(['bit-5']);
  });
  it('applies diskpart-style values and bit edits', () => {
    expect(applyAttributeSpec(0n, '0x8000000000000001')).toBe(0x8000000000000001n);
    expect(applyAttributeSpec(1n << 62n, '+no-drive-letter,-hidden,+required,+48')).toBe((1n << 63n) | 1n | (1n << 48n));
    expect(() => applyAttributeSpec(0n, 'hidden')).toThrow(/\+ or -/);
    expect(() => applyAttributeSpec(0n, '+64')).toThrow(/unknown attribute/);
    expect(() => applyAttributeSpec(0n, '0x1ffffffffffffffff')).toThrow();
  });
  it('reads bit edits into set and clear masks, a later edit of a bit winning', () => {
    expect(parseAttributeSpec('+required,-hidden')).toEqual({ ok: true, edit: { set: 1n, clear: 1n << 62n } });
    expect(parseAttributeSpec('+hidden,-hidden')).toEqual({ ok: true, edit: { set: 0n, clear: 1n << 62n } });
    expect(parseAttributeSpec('-63,+63')).toEqual({ ok: true, edit: { set: 1n << 63n, clear: 0n } });
    expect(parseAttributeSpec('12')).toEqual({ ok: true, edit: 12n });
    expect(editedAttributes((1n << 62n) | 4n, { set: 1n, clear: 1n << 62n })).toBe(5n);
    expect(parseAttributeSpec('hidden')).toEqual({ ok: false, reason: expect.stringMatching(/must start with \+ or -/) });
  });
});

describe('entry edit words', () => {
  it('reads set\'s option words into a typed edit, as the CLI and repair both do', () => {
    expect(parseEntryEditText({ type: 'EF00', attributes: '+no-drive-letter', name: 'EFI', guid: 'random' })).toEqual({
      ok: true,
      edit: { typeGuid: TYPE_GUIDS.ESP, attributes: { set: 1n << 63n, clear: 0n }, name: 'EFI', uniqueGuid: 'random' },
    });
    expect(parseEntryEditText({ guid: '0fc63daf-8483-4772-8e79-3d69d8477de4' })).toEqual({ ok: true, edit: { uniqueGuid: '0FC63DAF-8483-4772-8E79-3D69D8477DE4' } });
    expect(parseEntryEditText({ type: 'nonsense' })).toEqual({ ok: false, reason: expect.stringMatching(/^unknown partition type "nonsense"/) });
    expect(parseEntryEditText({ guid: 'xyz' })).toEqual({ ok: false, reason: '"xyz" is not a GUID (or "random")' });
    expect(parseEntryEditText({ attributes: '+64' })).toEqual({ ok: false, reason: expect.stringMatching(/^unknown attribute "64"/) });
  });
});

describe('mbr', () => {
  it('classifies protective, hybrid, legacy and none', () => {
    const pmbr = encodeProtectiveMbr(131072, 512);
    expect(decodeMbr(pmbr).kind).toBe('protective');
    expect(decodeMbr(pmbr).records[0]).toMatchObject({ osType: 0xee, startLba: 1, sizeLba: 131071, startChs: '000200' });
    const hybrid = new Uint8Array(pmbr);
    hybrid[446 + 16 + 4] = 0x07;
    expect(decodeMbr(hybrid).kind).toBe('hybrid');
    const legacy = new Uint8Array(pmbr);
    legacy[446 + 4] = 0x83;
    expect(decodeMbr(legacy).kind).toBe('legacy');
    expect(decodeMbr(new Uint8Array(512)).kind).toBe('none');
  });
  it('caps the protective size at 0xFFFFFFFF', () => {
    expect(decodeMbr(encodeProtectiveMbr(2 ** 33, 512)).records[0]!.sizeLba).toBe(0xffffffff);
  });
});
