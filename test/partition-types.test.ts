import { describe, expect, it } from 'vitest';
import { PARTITION_TYPES, TYPE_GUIDS, resolveType, typeByGuid } from '../src/gpt/partition-types.js';

describe('partition-type registry', () => {
  it('holds at least 150 well-formed, unique types', () => {
    expect(PARTITION_TYPES.length).toBeGreaterThanOrEqual(150);
    const guids = PARTITION_TYPES.map((t) => t.guid);
    expect(new Set(guids).size).toBe(guids.length);
    for (const g of guids) expect(g).toMatch(/^[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}$/);
    const codes = PARTITION_TYPES.flatMap((t) => [t.gdiskCode, ...(t.extraCodes ?? [])]).filter(Boolean);
    expect(new Set(codes).size).toBe(codes.length);
    for (const c of codes) expect(c).toMatch(/^[0-9A-F]{4}$/);
    const aliases = PARTITION_TYPES.flatMap((t) => t.aliases);
    expect(new Set(aliases).size).toBe(aliases.length);
    for (const a of aliases) expect(a).toMatch(/^[a-z0-9-]+$/);
    expect(new Set(PARTITION_TYPES.map((t) => t.os))).toEqual(
      new Set(['uefi', 'windows', 'linux', 'chromeos', 'android', 'freebsd', 'netbsd', 'openbsd', 'apple', 'solaris', 'vmware', 'ceph', 'fuchsia', 'other']),
    );
  });

  it.each([
    ['esp', 'C12A7328-F81F-11D2-BA4B-00A0C93EC93B', 'EF00'],
    ['msr', 'E3C9E316-0B5C-4DB8-817D-F92DF00215AE', '0C01'],
    ['basic', 'EBD0A0A2-B9E5-4433-87C0-68B6B72699C7', '0700'],
    ['recovery', 'DE94BBA4-06D1-4D40-A16A-BFD50179D6AC', '2700'],
    ['linux', '0FC63DAF-8483-4772-8E79-3D69D8477DE4', '8300'],
    ['swap', '0657FD6D-A4AB-43C4-84E5-0933C84B4F4F', '8200'],
    ['bios-boot', '21686148-6449-6E6F-744E-656564454649', 'EF02'],
    ['xbootldr', 'BC13C2FF-59E6-4262-A352-B275FD6F7172', 'EA00'],
    ['lvm', 'E6D6D379-F507-44C2-A23C-238F2A3DF928', '8E00'],
    ['raid', 'A19D880F-05FC-4D3B-A006-743F0F84911E', 'FD00'],
    ['linux-root-x86-64', '4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709', '8304'],
    ['linux-root-arm64', 'B921B045-1DF0-41C3-AF44-4C6F280D3FAE', '8305'],
    ['linux-usr-x86-64', '8484680C-9521-48C6-9C11-B0720656F69E', '8314'],
    ['home', '933AC7E1-2EB4-4F13-B844-0E14E2AEF915', '8302'],
    ['luks', 'CA7D7CCB-63ED-4C53-861C-1742536059CC', '8309'],
    ['apfs', '7C3457EF-0000-11AA-AA11-00306543ECAC', 'AF0A'],
    ['freebsd-zfs', '516E7CBA-6ECF-11D6-8FF8-00022D09712B', 'A504'],
    ['chromeos-kernel', 'FE3A2A5D-4F32-41A7-B725-ACCC3285A309', '7F00'],
    ['storage-spaces', 'E75CAF8F-F680-4CEE-AFA3-B001E56EFC2D', '4202'],
    ['ldm-data', 'AF9B60A0-1431-4F62-BC68-3311714A69AD', '4200'],
    ['ldm-metadata', '5808C8AA-7E8F-42E0-85D2-E1E90434CFB3', '4201'],
    ['vmfs', 'AA31E02A-400F-11DB-9590-000C2911D1B8', 'FB00'],
  ])('%s is %s (gdisk %s)', (alias, guid, code) => {
    expect(resolveType(alias)).toEqual({ guid, type: typeByGuid(guid) });
    expect(resolveType(code)?.guid).toBe(guid);
    expect(resolveType(code.toLowerCase())?.guid).toBe(guid);
    expect(resolveType(`{${guid.toLowerCase()}}`)?.guid).toBe(guid);
    expect(typeByGuid(guid)?.gdiskCode).toBe(code);
  });

  it('resolves extra gdisk codes, names and unknown GUIDs', () => {
    expect(resolveType('0x0700')?.guid).toBe(TYPE_GUIDS.BASIC_DATA);
    expect(resolveType('0B00')?.guid).toBe(TYPE_GUIDS.BASIC_DATA);
    expect(resolveType('F108')?.guid).toBe(TYPE_GUIDS.ESP);
    expect(resolveType('EFI system partition')?.guid).toBe(TYPE_GUIDS.ESP);
    expect(resolveType('Linux RAID')?.guid).toBe('A19D880F-05FC-4D3B-A006-743F0F84911E');
    expect(resolveType('01234567-89ab-cdef-0123-456789abcdef')).toEqual({ guid: '01234567-89AB-CDEF-0123-456789ABCDEF' });
    expect(resolveType('nonsense')).toBeUndefined();
    expect(resolveType('FFFF')).toBeUndefined();
  });
});
