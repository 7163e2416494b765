import { parseAttributeSpec, type AttributeEdit } from './attributes.js';
import { normalizeGuid } from './guid.js';
import { resolveType } from './partition-types.js';

/**
 * A change to one partition entry, in the table's own terms: what the library's `planSet` takes.
 * Fields left undefined keep their value; unknown attribute bits and reserved bytes always do.
 */
export interface EntryEdit {
  /** The new partition type GUID. */
  typeGuid?: string;
  attributes?: AttributeEdit;
  /** The new name (at most 36 UTF-16 code units). */
  name?: string;
  /** The new unique partition GUID, or 'random' for a fresh one chosen when the plan is made. */
  uniqueGuid?: string | 'random';
}

/**
 * The words of `set`'s options, as a person types them and as check's fix lines spell them
 * (`--type esp`, `--attributes +no-drive-letter`, `--guid random`).
 */
export interface EntryEditText {
  type?: string;
  attributes?: string;
  name?: string;
  guid?: string;
}

export type EntryEditParse = { ok: true; edit: EntryEdit } | { ok: false; reason: string };

/**
 * Reads `set`'s option words into an EntryEdit. It lives with the codecs because two layers read
 * the same words: the CLI (what the user typed) and repair (the edit a finding's fix line makes),
 * and they must never read them differently.
 */
export function parseEntryEditText(text: EntryEditText): EntryEditParse {
  const edit: EntryEdit = {};
  if (text.type !== undefined) {
    const resolved = resolveType(text.type);
    if (!resolved) return { ok: false, reason: `unknown partition type "${text.type}": give a GUID, a gdisk code (EF00, 0C01, 0700, 2700, 8300…) or a name (esp, msr, basic, recovery, linux…)` };
    edit.typeGuid = resolved.guid;
  }
  if (text.attributes !== undefined) {
    const parsed = parseAttributeSpec(text.attributes);
    if (!parsed.ok) return parsed;
    edit.attributes = parsed.edit;
  }
  if (text.name !== undefined) edit.name = text.name;
  if (text.guid !== undefined) {
    const guid = text.guid === 'random' ? 'random' : normalizeGuid(text.guid);
    if (!guid) return { ok: false, reason: `"${text.guid}" is not a GUID (or "random")` };
    edit.uniqueGuid = guid;
  }
  return { ok: true, edit };
}
