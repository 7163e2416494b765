import { hex64 } from './le.js';

/**
 * GPT attribute bits by meaning. Bits 0–2 are UEFI's; 60–63 are Microsoft's basic-data bits
 * (Windows also sets 63 on the ESP and MSR). Every other bit is named by number so edits can
 * address it and round-trips keep it.
 */
export const ATTRIBUTE_BITS: ReadonlyArray<{ bit: number; name: string; aliases: readonly string[]; meaning: string }> = [
  { bit: 0, name: 'required', aliases: ['platform-required'], meaning: 'platform required: do not delete or modify (UEFI)' },
  { bit: 1, name: 'no-block-io', aliases: ['no-blockio'], meaning: 'firmware must not expose a Block IO protocol (UEFI): hides the ESP from the firmware' },
  { bit: 2, name: 'legacy-bios-bootable', aliases: ['legacy-boot', 'bootable'], meaning: 'legacy BIOS bootable (UEFI ignores it)' },
  { bit: 60, name: 'read-only', aliases: ['readonly'], meaning: 'Windows: read-only volume (basic data)' },
  { bit: 61, name: 'shadow-copy', aliases: [], meaning: 'Windows: shadow copy of another partition (basic data)' },
  { bit: 62, name: 'hidden', aliases: [], meaning: 'Windows: hidden, not mounted or enumerated (basic data)' },
  { bit: 63, name: 'no-drive-letter', aliases: ['nodriveletter', 'no-automount'], meaning: 'Windows: no drive letter by default (basic data)' },
];

const BIT_BY_NAME = new Map<string, number>();
for (const a of ATTRIBUTE_BITS) for (const n of [a.name, ...a.aliases]) BIT_BY_NAME.set(n, a.bit);

export const ATTR = {
  REQUIRED: 1n,
  NO_BLOCK_IO: 1n << 1n,
  LEGACY_BIOS_BOOTABLE: 1n << 2n,
  NO_DRIVE_LETTER: 1n << 63n,
  HIDDEN: 1n << 62n,
} as const;

/** Names of the set bits, lowest first: known bits by name, others as `bit-N`. */
export function attributeNames(value: bigint): string[] {
  const names: string[] = [];
  if (value === 0n) return names;
  for (let bit = 0; bit < 64; bit++) {
    if ((value >> BigInt(bit)) & 1n) {
      names.push(ATTRIBUTE_BITS.find((a) => a.bit === bit)?.name ?? `bit-${bit}`);
    }
  }
  return names;
}

export const formatAttributes = hex64;

/**
 * A change to an entry's attributes: a full 64-bit value, or bits to set and bits to clear on
 * whatever the entry holds (the two masks never share a bit).
 */
export type AttributeEdit = bigint | { set: bigint; clear: bigint };

/** The attributes `current` becomes under `edit`. */
export function editedAttributes(current: bigint, edit: AttributeEdit): bigint {
  return typeof edit === 'bigint' ? edit : (current | edit.set) & ~edit.clear;
}

/**
 * Reads what a user typed for --attributes:
 * - a full value (`0x8000000000000001`, or decimal), like diskpart's `gpt attributes=`;
 * - or comma-separated bit edits (`+no-drive-letter,-hidden,+required,+63,-bit-62`), applied in
 *   order, so a later edit of the same bit wins.
 * A text that is not understood gives the reason, meant for a person.
 */
export function parseAttributeSpec(spec: string): { ok: true; edit: AttributeEdit } | { ok: false; reason: string } {
  const text = spec.trim();
  if (/^(0x[0-9a-f]{1,16}|[0-9]+)$/i.test(text)) {
    const value = BigInt(text);
    if (value >= 1n << 64n) return { ok: false, reason: `attribute value ${text} does not fit in 64 bits` };
    return { ok: true, edit: value };
  }
  let set = 0n;
  let clear = 0n;
  for (const part of text.split(',').map((p) => p.trim()).filter(Boolean)) {
    const op = part[0];
    if (op !== '+' && op !== '-') {
      return { ok: false, reason: `attribute edit "${part}" must start with + or - (e.g. +no-drive-letter,-hidden,+63), or give a full hex value` };
    }
    const bit = parseBitName(part.slice(1).trim().toLowerCase());
    if (bit === undefined) {
      const known = ATTRIBUTE_BITS.map((a) => a.name).join(', ');
      return { ok: false, reason: `unknown attribute "${part.slice(1)}": use a bit number 0–63 or one of ${known}` };
    }
    const mask = 1n << BigInt(bit);
    if (op === '+') [set, clear] = [set | mask, clear & ~mask];
    else [set, clear] = [set & ~mask, clear | mask];
  }
  return { ok: true, edit: { set, clear } };
}

/** `parseAttributeSpec` applied to `current`; throws a RangeError with the reason when the text is not understood. */
export function applyAttributeSpec(current: bigint, spec: string): bigint {
  const parsed = parseAttributeSpec(spec);
  if (!parsed.ok) throw new RangeError(parsed.reason);
  return editedAttributes(current, parsed.edit);
}

function parseBitName(name: string): number | undefined {
  const numeric = /^(?:bit-?)?([0-9]{1,2})$/.exec(name);
  if (numeric) {
    const bit = Number(numeric[1]);
    return bit < 64 ? bit : undefined;
  }
  return BIT_BY_NAME.get(name);
}
