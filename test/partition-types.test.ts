import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PARTITION_TYPES, TYPE_GUIDS, resolveType, typeByGuid, type PartitionType } from '../src/gpt/partition-types.js';
import { haveTools, runAll, tempDir } from './helpers/tools.js';

const GUID = /^[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}$/;
const codesOf = (t: PartitionType): string[] => [t.gdiskCode, ...(t.extraCodes ?? [])].filter((c): c is string => !!c);

describe('partition-type registry: shape', () => {
  it('holds at least 150 well-formed types with unique GUIDs', () => {
    expect(PARTITION_TYPES.length).toBeGreaterThanOrEqual(150);
    const guids = PARTITION_TYPES.map((t) => t.guid);
    for (const g of guids) expect(g).toMatch(GUID);
    expect(new Set(guids).size).toBe(guids.length);
    for (const t of PARTITION_TYPES) {
      expect(t.name.trim()).toBe(t.name);
      expect(t.name.length).toBeGreaterThan(0);
      expect(t.aliases.length).toBeGreaterThan(0);
      expect(t.guid).not.toBe(TYPE_GUIDS.UNUSED);
    }
  });

  it('keeps the table ASCII, comments too, so that V8 stores its names one byte a character', () => {
    // A two-byte name in a report doubles the JSON that JSON.stringify builds (see TABLE's comment).
    const source = readFileSync(new URL('../src/gpt/partition-types.ts', import.meta.url), 'utf8');
    const table = /const TABLE = `([^`]*)`/.exec(source)?.[1];
    expect(table?.length).toBeGreaterThan(10_000);
    const wide = table!.split('\n').filter((line) => /[^\x00-\x7f]/.test(line));
    expect(wide).toEqual([]);
  });

  it('has unique 4-hex-digit gdisk codes and unique lowercase aliases', () => {
    const codes = PARTITION_TYPES.flatMap(codesOf);
    for (const c of codes) expect(c).toMatch(/^[0-9A-F]{4}$/);
    expect(new Set(codes).size).toBe(codes.length);
    expect(codes).not.toContain('FFFF'); // gdisk reserves FFFF for "unknown"
    const aliases = PARTITION_TYPES.flatMap((t) => t.aliases);
    for (const a of aliases) expect(a).toMatch(/^[a-z0-9][a-z0-9-]*$/);
    expect(new Set(aliases).size).toBe(aliases.length);
    // An alias must never shadow a gdisk code.
    for (const a of aliases) expect(/^[0-9a-f]{4}$/.test(a)).toBe(false);
  });

  it('covers the expected families', () => {
    expect(new Set(PARTITION_TYPES.map((t) => t.os))).toEqual(
      new Set(['uefi', 'windows', 'linux', 'chromeos', 'android', 'freebsd', 'netbsd', 'openbsd', 'apple', 'solaris', 'vmware', 'ceph', 'fuchsia', 'other']),
    );
  });

  it('has every TYPE_GUIDS constant registered (except UNUSED)', () => {
    for (const [key, guid] of Object.entries(TYPE_GUIDS)) {
      expect(guid).toMatch(GUID);
      if (key === 'UNUSED') expect(typeByGuid(guid)).toBeUndefined();
      else expect(typeByGuid(guid), key).toBeDefined();
    }
  });
});

describe('partition-type registry: well-known types', () => {
  it.each([
    ['esp', 'C12A7328-F81F-11D2-BA4B-00A0C93EC93B', 'EF00', 'uefi'],
    ['efi', 'C12A7328-F81F-11D2-BA4B-00A0C93EC93B', 'EF00', 'uefi'],
    ['msr', 'E3C9E316-0B5C-4DB8-817D-F92DF00215AE', '0C01', 'windows'],
    ['basic', 'EBD0A0A2-B9E5-4433-87C0-68B6B72699C7', '0700', 'windows'],
    ['basic-data', 'EBD0A0A2-B9E5-4433-87C0-68B6B72699C7', '0700', 'windows'],
    ['recovery', 'DE94BBA4-06D1-4D40-A16A-BFD50179D6AC', '2700', 'windows'],
    ['winre', 'DE94BBA4-06D1-4D40-A16A-BFD50179D6AC', '2700', 'windows'],
    ['ldm-data', 'AF9B60A0-1431-4F62-BC68-3311714A69AD', '4200', 'windows'],
    ['ldm-metadata', '5808C8AA-7E8F-42E0-85D2-E1E90434CFB3', '4201', 'windows'],
    ['storage-spaces', 'E75CAF8F-F680-4CEE-AFA3-B001E56EFC2D', '4202', 'windows'],
    ['linux', '0FC63DAF-8483-4772-8E79-3D69D8477DE4', '8300', 'linux'],
    ['linux-generic', '0FC63DAF-8483-4772-8E79-3D69D8477DE4', '8300', 'linux'],
    ['swap', '0657FD6D-A4AB-43C4-84E5-0933C84B4F4F', '8200', 'linux'],
    ['bios-boot', '21686148-6449-6E6F-744E-656564454649', 'EF02', 'uefi'],
    ['xbootldr', 'BC13C2FF-59E6-4262-A352-B275FD6F7172', 'EA00', 'linux'],
    ['lvm', 'E6D6D379-F507-44C2-A23C-238F2A3DF928', '8E00', 'linux'],
    ['raid', 'A19D880F-05FC-4D3B-A006-743F0F84911E', 'FD00', 'linux'],
    ['luks', 'CA7D7CCB-63ED-4C53-861C-1742536059CC', '8309', 'linux'],
    ['home', '933AC7E1-2EB4-4F13-B844-0E14E2AEF915', '8302', 'linux'],
    ['srv', '3B8F8425-20E0-4F3B-907F-1A25A76F98E8', '8306', 'linux'],
    ['var', '4D21B016-B534-45C2-A9FB-5C16E091FD2D', '8310', 'linux'],
    ['tmp', '7EC6F557-3BC5-4ACA-B293-16EF5DF639D1', '8311', 'linux'],
    ['user-home', '773F91EF-66D4-49B5-BD83-D683BF40AD16', '8312', 'linux'],
    ['linux-root-x86-64', '4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709', '8304', 'linux'],
    ['linux-root-arm64', 'B921B045-1DF0-41C3-AF44-4C6F280D3FAE', '8305', 'linux'],
    ['linux-usr-x86-64', '8484680C-9521-48C6-9C11-B0720656F69E', '8314', 'linux'],
    ['linux-root-verity-x86-64', '2C7357ED-EBD2-46D9-AEC1-23D437EC2BF5', '830C', 'linux'],
    ['linux-root-verity-sig-arm64', '6DB69DE6-29F4-4758-A7A5-962190F00CE3', '8360', 'linux'],
    ['apfs', '7C3457EF-0000-11AA-AA11-00306543ECAC', 'AF0A', 'apple'],
    ['hfsplus', '48465300-0000-11AA-AA11-00306543ECAC', 'AF00', 'apple'],
    ['apple-core-storage', '53746F72-6167-11AA-AA11-00306543ECAC', 'AF05', 'apple'],
    ['freebsd-zfs', '516E7CBA-6ECF-11D6-8FF8-00022D09712B', 'A504', 'freebsd'],
    ['freebsd-ufs', '516E7CB6-6ECF-11D6-8FF8-00022D09712B', 'A503', 'freebsd'],
    ['netbsd-ffs', '49F48D5A-B10E-11DC-B99B-0019D1879648', 'A902', 'netbsd'],
    ['openbsd', '824CC7A0-36A8-11E3-890A-952519AD3F61', 'A600', 'openbsd'],
    ['chromeos-kernel', 'FE3A2A5D-4F32-41A7-B725-ACCC3285A309', '7F00', 'chromeos'],
    ['chromeos-root', '3CB8E202-3B7E-47DD-8A3C-7FF2A13CFCEC', '7F01', 'chromeos'],
    ['android-boot', '49A4D17F-93A3-45C1-A0DE-F50B2EBE2599', 'A002', 'android'],
    ['solaris-root', '6A85CF4D-1DD2-11B2-99A6-080020736631', 'BF00', 'solaris'],
    ['vmfs', 'AA31E02A-400F-11DB-9590-000C2911D1B8', 'FB00', 'vmware'],
    ['ceph-osd', '4FBD7E29-9D25-41B8-AFD0-062C0CEFF05D', 'F800', 'ceph'],
  ])('%s is %s (gdisk %s)', (alias, guid, code, os) => {
    const type = typeByGuid(guid);
    expect(type).toBeDefined();
    expect(type?.aliases).toContain(alias);
    expect(type?.gdiskCode).toBe(code);
    expect(type?.os).toBe(os);
    expect(resolveType(alias)).toEqual({ guid, type });
    expect(resolveType(alias.toUpperCase())?.guid).toBe(guid);
    expect(resolveType(code)).toEqual({ guid, type });
    expect(resolveType(code.toLowerCase())?.guid).toBe(guid);
    expect(resolveType(guid)).toEqual({ guid, type });
    expect(resolveType(guid.toLowerCase())?.guid).toBe(guid);
    expect(resolveType(`{${guid}}`)?.guid).toBe(guid);
    expect(resolveType(`{${guid.toLowerCase()}}`)?.guid).toBe(guid);
    expect(resolveType(type!.name)?.guid).toBe(guid);
    expect(typeByGuid(guid.toLowerCase())).toBe(type);
  });

  it('uses the names gdisk prints', () => {
    expect(typeByGuid(TYPE_GUIDS.ESP)?.name).toBe('EFI system partition');
    expect(typeByGuid(TYPE_GUIDS.MSR)?.name).toBe('Microsoft reserved');
    expect(typeByGuid(TYPE_GUIDS.BASIC_DATA)?.name).toBe('Microsoft basic data');
    expect(typeByGuid(TYPE_GUIDS.WINDOWS_RECOVERY)?.name).toBe('Windows RE');
    expect(typeByGuid(TYPE_GUIDS.LINUX_FILESYSTEM)?.name).toBe('Linux filesystem');
    expect(typeByGuid('E6D6D379-F507-44C2-A23C-238F2A3DF928')?.name).toBe('Linux LVM');
    expect(typeByGuid('7C3457EF-0000-11AA-AA11-00306543ECAC')?.name).toBe('Apple APFS');
  });

  it('keeps gdisk\'s extra codes: MBR FAT/NTFS codes, F108, A900, E100/E101', () => {
    for (const code of ['0100', '0400', '0600', '0B00', '0C00', '0E00', '1100', '1400', '1600', '1700', '1B00', '1C00', '1E00']) {
      expect(resolveType(code)?.guid, code).toBe(TYPE_GUIDS.BASIC_DATA);
    }
    expect(typeByGuid(TYPE_GUIDS.BASIC_DATA)?.gdiskCode).toBe('0700');
    expect(resolveType('F108')?.guid).toBe(TYPE_GUIDS.ESP);
    expect(resolveType('a900')?.guid).toBe('516E7CB4-6ECF-11D6-8FF8-00022D09712B');
    expect(resolveType('E100')?.guid).toBe(resolveType('3000')?.guid);
    expect(resolveType('0x0700')?.guid).toBe(TYPE_GUIDS.BASIC_DATA);
    expect(resolveType(' 0X0c01 ')?.guid).toBe(TYPE_GUIDS.MSR);
  });

  it('lists types gdisk has no code for without inventing one', () => {
    for (const guid of ['481B2A38-0561-420B-B72A-F1C4988EFC16', '381CFCCC-7288-11E0-92EE-000C2911D0B2']) {
      const type = typeByGuid(guid);
      expect(type).toBeDefined();
      expect(type?.gdiskCode).toBeUndefined();
      expect(resolveType(type!.aliases[0]!)?.guid).toBe(guid);
    }
  });

  it('resolves names case-insensitively and rejects unknown words', () => {
    expect(resolveType('EFI system partition')?.guid).toBe(TYPE_GUIDS.ESP);
    expect(resolveType('linux raid')?.guid).toBe('A19D880F-05FC-4D3B-A006-743F0F84911E');
    expect(resolveType('WINDOWS LDM METADATA')?.guid).toBe(TYPE_GUIDS.LDM_METADATA);
    expect(resolveType('nonsense')).toBeUndefined();
    expect(resolveType('')).toBeUndefined();
    expect(resolveType('FFFF')).toBeUndefined();
    expect(resolveType('0000')).toBeUndefined();
    expect(resolveType('EF0')).toBeUndefined();
    expect(resolveType('C12A7328-F81F-11D2-BA4B-00A0C93EC93')).toBeUndefined();
  });

  it('resolves well-formed unknown GUIDs without a type', () => {
    expect(resolveType('01234567-89ab-cdef-0123-456789abcdef')).toEqual({ guid: '01234567-89AB-CDEF-0123-456789ABCDEF' });
    expect(resolveType('{01234567-89AB-CDEF-0123-456789ABCDEF}')).toEqual({ guid: '01234567-89AB-CDEF-0123-456789ABCDEF' });
    expect(resolveType(TYPE_GUIDS.UNUSED)).toEqual({ guid: TYPE_GUIDS.UNUSED });
    expect(typeByGuid('01234567-89AB-CDEF-0123-456789ABCDEF')).toBeUndefined();
    expect(typeByGuid(`{${TYPE_GUIDS.ESP.toLowerCase()}}`)?.guid).toBe(TYPE_GUIDS.ESP);
  });
});

// Oracles: the registry must agree with the tools on this machine. sgdisk and sfdisk are installed in CI.
describe.runIf(haveTools('sgdisk', 'sfdisk'))('partition-type registry agrees with gdisk and util-linux', () => {
  const dir = tempDir('gptdoctor-types-');
  afterAll(() => dir.cleanup());

  it('maps every gdisk code sgdisk knows to the same GUID, and knows every code sgdisk lists', () => {
    const entries = PARTITION_TYPES.flatMap((t) => codesOf(t).map((code) => ({ code, guid: t.guid })));
    const unknownToSgdisk: string[] = [];
    for (let start = 0; start < entries.length; start += 128) {
      const batch = entries.slice(start, start + 128);
      const image = join(dir.path, `types-${start}.img`);
      writeFileSync(image, Buffer.alloc((34 + batch.length + 40) * 512));
      const args = ['-o', '-a', '1'];
      batch.forEach((_, i) => args.push('-n', `${i + 1}:${34 + i}:${34 + i}`));
      batch.forEach((e, i) => args.push('-t', `${i + 1}:${e.code}`));
      const made = runAll('sgdisk', [...args, image]);
      expect(made.status, made.output).toBe(0);
      for (const m of made.output.matchAll(/type code ([0-9A-Fa-f]{4})/g)) unknownToSgdisk.push(m[1]!.toUpperCase());
      const table = JSON.parse(runAll('sfdisk', ['--json', image]).output) as { partitiontable: { partitions: Array<{ type: string }> } };
      batch.forEach((e, i) => {
        if (unknownToSgdisk.includes(e.code)) return;
        expect(table.partitiontable.partitions[i]?.type.toUpperCase(), e.code).toBe(e.guid);
      });
    }
    // Older gdisk releases lack some newer codes (1.0.9 lacks the 831D–8386 architectures); never most of them.
    expect(unknownToSgdisk.length).toBeLessThan(entries.length / 2);

    const listing = runAll('sgdisk', ['-L']).output;
    let listed = 0;
    for (const m of listing.matchAll(/(?:^|\s)([0-9a-f]{4}) (.+?)(?=\s{2,}|\s*$)/gm)) {
      listed++;
      const type = resolveType(m[1]!)?.type;
      expect(type, `sgdisk -L code ${m[1]}`).toBeDefined();
      expect(codesOf(type!)).toContain(m[1]!.toUpperCase()); // gdisk lists both 3000 and E100 for ONIE boot
      // gdisk names a GUID after its first code; the others (F108 "Fuchsia ESP") keep their own label.
      if (type?.gdiskCode === m[1]!.toUpperCase()) {
        expect(type.name.startsWith(m[2]!.trim()), `${m[1]}: ${m[2]} vs ${type.name}`).toBe(true);
      }
    }
    expect(listed).toBeGreaterThan(100);
  }, 30_000);

  it('knows every GPT type GUID sfdisk lists', () => {
    const listing = runAll('sfdisk', ['--label', 'gpt', '-T']).output;
    const guids = [...listing.matchAll(/^([0-9A-Fa-f]{8}-[0-9A-Fa-f-]{27})\s/gm)].map((m) => m[1]!.toUpperCase());
    expect(guids.length).toBeGreaterThan(100);
    for (const guid of guids) expect(typeByGuid(guid), guid).toBeDefined();
  });
});


describe.runIf(haveTools('systemd-id128'))('partition-type registry agrees with systemd (Discoverable Partitions Specification)', () => {
  it('has every per-architecture root/usr/verity/verity-sig type and the generic types, with matching aliases', () => {
    const out = spawnSync('systemd-id128', ['show'], { encoding: 'utf8' }).stdout;
    let checked = 0;
    for (const [, name, hex] of out.matchAll(/^(\S+)\s+([0-9a-f]{32})$/gm)) {
      const guid = `${hex!.slice(0, 8)}-${hex!.slice(8, 12)}-${hex!.slice(12, 16)}-${hex!.slice(16, 20)}-${hex!.slice(20)}`.toUpperCase();
      const perArch = /^(root|usr)-(.+?)(-verity-sig|-verity)?$/.exec(name!);
      if (perArch && !/^(secondary|other|verity)/.test(perArch[2]!)) {
        const alias = `linux-${perArch[1]}${perArch[3] ?? ''}-${perArch[2]}`;
        expect(resolveType(alias)?.guid, `${name} → ${alias}`).toBe(guid);
        checked++;
      } else if (['esp', 'xbootldr', 'swap', 'home', 'srv', 'var', 'tmp', 'user-home', 'linux-generic'].includes(name!)) {
        expect(resolveType(name!)?.guid, name).toBe(guid);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(100);
  });
});
