import { decodeGuid, normalizeGuid } from '../gpt/guid.js';
import { u32, u64 } from '../gpt/le.js';
import { REG_BINARY, regDword, regMultiSz, regSz, regTypeName, type HiveValue } from './regf-data.js';
import type { Hive, HiveKey } from './regf.js';
import { VolumeUnreadable } from './unreadable.js';

/**
 * The Boot Configuration Data store (\EFI\Microsoft\Boot\BCD, \Boot\BCD) decoded from its hive:
 * Objects\{GUID}\Description has the object type (REG_DWORD "Type"), and
 * Objects\{GUID}\Elements\<element id, 8 hex digits> holds each element as a value "Element".
 * What is read is what a clone breaks: the devices that name a partition and its disk by GUID
 * (or, on MBR, by offset and disk signature), so that a check can compare them with the disk.
 *
 * Device elements (REG_BINARY): the device type at 0x10 (5 = the boot device, 6 = a partition);
 * for a partition, at 0x20 the GPT partition GUID (mixed-endian, as in the GPT) or the MBR
 * partition's byte offset (u64), at 0x34 the partition style (0 = GPT, 1 = MBR: the reverse of
 * WMI's BcdDeviceQualifiedPartitionData), at 0x38 the GPT disk GUID or the 4-byte MBR signature.
 */
export const BOOT_MANAGER_ID = '9DEA862C-5CDD-4E70-ACC1-F32B344D4795';
export const OBJECT_TYPE_BOOT_MANAGER = 0x10100002;
export const OBJECT_TYPE_BOOT_LOADER = 0x10200003;
export const ELEMENT_DEVICE = '11000001';
export const ELEMENT_PATH = '12000002';
export const ELEMENT_DESCRIPTION = '12000004';
export const ELEMENT_OS_DEVICE = '21000001';
export const ELEMENT_DEFAULT_OBJECT = '23000003';
export const ELEMENT_DISPLAY_ORDER = '24000001';

export type BcdDevice =
  | { kind: 'partition'; style: 'gpt'; partitionGuid: string; diskGuid: string }
  | { kind: 'partition'; style: 'mbr'; partitionOffset: number; diskSignature: number }
  | { kind: 'boot' }
  | { kind: 'other'; deviceType: number }
  | { kind: 'unreadable'; reason: string };

export interface BcdBootManager {
  /** undefined when the element is missing. */
  device?: BcdDevice;
  /** The default object's GUID, canonical upper case. */
  defaultObject?: string;
  displayOrder?: string[];
}

export interface BcdLoader {
  /** The object's GUID, canonical upper case. */
  id: string;
  description?: string;
  path?: string;
  device?: BcdDevice;
  osDevice?: BcdDevice;
}

export interface BcdStore {
  /** undefined when the store has no {bootmgr} object. */
  bootManager?: BcdBootManager;
  /** Windows Boot Loader objects (type 0x10200003) in stored order. */
  loaders: BcdLoader[];
  /** What could not be read, one line each ("object {…}: …"); reading went on past each. */
  problems: string[];
}

const DEVICE_TYPE_BOOT = 5;
const DEVICE_TYPE_PARTITION = 6;
const STYLE_GPT = 0;
const STYLE_MBR = 1;

/** A device element's bytes as a typed device. */
export function decodeDevice(d: Uint8Array): BcdDevice {
  const unreadable = (reason: string): BcdDevice => ({ kind: 'unreadable', reason });
  if (d.length < 0x14) return unreadable(`the device element is ${d.length} bytes; its device type (at 0x10) needs 20`);
  const deviceType = u32(d, 0x10);
  if (deviceType === DEVICE_TYPE_BOOT) return { kind: 'boot' };
  if (deviceType !== DEVICE_TYPE_PARTITION) return { kind: 'other', deviceType };
  if (d.length < 0x38) return unreadable(`the partition device element is ${d.length} bytes; its partition style (at 0x34) needs 56`);
  const style = u32(d, 0x34);
  if (style === STYLE_GPT) {
    if (d.length < 0x48) return unreadable(`the GPT partition device element is ${d.length} bytes; its disk GUID (at 0x38) needs 72`);
    return { kind: 'partition', style: 'gpt', partitionGuid: decodeGuid(d, 0x20), diskGuid: decodeGuid(d, 0x38) };
  }
  if (style === STYLE_MBR) {
    if (d.length < 0x3c) return unreadable(`the MBR partition device element is ${d.length} bytes; its disk signature (at 0x38) needs 60`);
    return { kind: 'partition', style: 'mbr', partitionOffset: u64(d, 0x20), diskSignature: u32(d, 0x38) };
  }
  return unreadable(`partition style ${style} is neither GPT (0) nor MBR (1)`);
}

const message = (e: unknown): string => (e instanceof VolumeUnreadable ? e.reason : String(e));

/**
 * Decodes the store. Throws VolumeUnreadable when the hive has no readable Objects key; damage
 * inside one object or element is a problem (or an 'unreadable' device) and the rest is read.
 */
export function decodeBcd(hive: Hive): BcdStore {
  const objects = hive.subkey(hive.root, 'Objects');
  if (!objects) throw new VolumeUnreadable('not a BCD store: the hive has no Objects key');
  const store: BcdStore = { loaders: [], problems: [] };
  for (const object of hive.subkeys(objects)) {
    const id = normalizeGuid(object.name);
    const where = `object ${object.name}`;
    if (!id) {
      store.problems.push(`${where}: the key name is not a GUID`);
      continue;
    }
    try {
      const elements = hive.subkey(object, 'Elements');
      const element = (name: string): HiveValue | undefined => {
        const key = elements && hive.subkey(elements, name);
        return key && hive.value(key, 'Element');
      };
      const device = (name: string): BcdDevice | undefined => readDevice(element, name);
      const text = (name: string): string | undefined => readText(element, name, `${where}`, store.problems);
      if (id === BOOT_MANAGER_ID) {
        const bootManager: BcdBootManager = {};
        const dev = device(ELEMENT_DEVICE);
        if (dev) bootManager.device = dev;
        const defaultText = text(ELEMENT_DEFAULT_OBJECT);
        if (defaultText !== undefined) {
          const guid = normalizeGuid(defaultText);
          if (guid) bootManager.defaultObject = guid;
          else store.problems.push(`${where}: element ${ELEMENT_DEFAULT_OBJECT} (default object) "${defaultText.slice(0, 60)}" is not a GUID`);
        }
        const order = readList(element, ELEMENT_DISPLAY_ORDER, where, store.problems);
        if (order) bootManager.displayOrder = order;
        store.bootManager = bootManager;
        continue;
      }
      if (objectType(hive, object) !== OBJECT_TYPE_BOOT_LOADER) continue;
      const loader: BcdLoader = { id };
      const description = text(ELEMENT_DESCRIPTION);
      const path = text(ELEMENT_PATH);
      const dev = device(ELEMENT_DEVICE);
      const osDevice = device(ELEMENT_OS_DEVICE);
      if (description !== undefined) loader.description = description;
      if (path !== undefined) loader.path = path;
      if (dev) loader.device = dev;
      if (osDevice) loader.osDevice = osDevice;
      store.loaders.push(loader);
    } catch (e) {
      if (!(e instanceof VolumeUnreadable)) throw e;
      store.problems.push(`${where}: ${e.reason}`);
    }
  }
  return store;
}

/** Description\Type, or undefined when it is missing or not a REG_DWORD. */
function objectType(hive: Hive, object: HiveKey): number | undefined {
  const description = hive.subkey(object, 'Description');
  const type = description && hive.value(description, 'Type');
  return type && regDword(type);
}

type ElementReader = (name: string) => HiveValue | undefined;

function readDevice(element: ElementReader, name: string): BcdDevice | undefined {
  let value: HiveValue | undefined;
  try {
    value = element(name);
  } catch (e) {
    if (!(e instanceof VolumeUnreadable)) throw e;
    return { kind: 'unreadable', reason: `element ${name}: ${message(e)}` };
  }
  if (!value) return undefined;
  if (value.type !== REG_BINARY) return { kind: 'unreadable', reason: `element ${name} is ${regTypeName(value.type)}, not REG_BINARY` };
  const device = decodeDevice(value.data);
  return device.kind === 'unreadable' ? { kind: 'unreadable', reason: `element ${name}: ${device.reason}` } : device;
}

function readText(element: ElementReader, name: string, where: string, problems: string[]): string | undefined {
  try {
    const value = element(name);
    if (!value) return undefined;
    const text = regSz(value);
    if (text === undefined) problems.push(`${where}: element ${name} is ${regTypeName(value.type)}, not REG_SZ`);
    return text;
  } catch (e) {
    if (!(e instanceof VolumeUnreadable)) throw e;
    problems.push(`${where}: element ${name}: ${e.reason}`);
    return undefined;
  }
}

function readList(element: ElementReader, name: string, where: string, problems: string[]): string[] | undefined {
  try {
    const value = element(name);
    if (!value) return undefined;
    const list = regMultiSz(value);
    if (list === undefined) problems.push(`${where}: element ${name} is ${regTypeName(value.type)}, not REG_MULTI_SZ`);
    return list?.map((s) => normalizeGuid(s) ?? s);
  } catch (e) {
    if (!(e instanceof VolumeUnreadable)) throw e;
    problems.push(`${where}: element ${name}: ${e.reason}`);
    return undefined;
  }
}
