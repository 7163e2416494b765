import { copyFileSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkDisk } from '../src/api.js';
import { hasGrubBootCode } from '../src/check/cloud-facts.js';
import { awsFindings, azureFindings, AZURE_DISK_MAX, AZURE_OS_DISK_MAX, EBS_VOLUME_MAX, type CloudFacts } from '../src/check/cloud-rules.js';
import { FINDING_CODES, type Finding } from '../src/check/finding.js';
import type { ContainerFacts } from '../src/read/container-facts.js';
import type { CheckReport } from '../src/report/check-report.js';
import { gptdoctor } from './helpers/cli.js';
import { fixtureFile, memory, sfdiskImage } from './helpers/images.js';
import { haveTools, run, tempDir } from './helpers/tools.js';

/**
 * The cloud import rules (check --target, src/check/cloud-rules.ts): on synthetic facts for every
 * branch, then on images qemu-img makes from the committed windows fixture (fixed, dynamic and
 * CHS-sized VHDs, VHDX, qcow2, VMDK, VHDs with bytes added or cut), and through the command line.
 * The fixtures checked with --target from memory are in test/fixtures.test.ts (TARGETED).
 */

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;
const TiB = 1024 * GiB;
const esp = { partition: 1, label: 'partition 1 ("EFI system partition")' };

function facts(over: Partial<CloudFacts> = {}, container: Partial<ContainerFacts> = {}): CloudFacts {
  return {
    container: { format: 'vhd', subformat: 'fixed', virtualSize: 150 * MiB, fileSize: 150 * MiB + 512, hasParent: false, ...container },
    table: 'gpt',
    hybridMbr: false,
    esps: [esp],
    grubBootCode: false,
    systems: [],
    encrypted: [],
    mbr2gptReady: false,
    ...over,
  };
}
const codes = (findings: Finding[]): string[] => findings.map((f) => `${f.code}:${f.severity}`).sort();
const message = (findings: Finding[], code: string): string => findings.find((f) => f.code === code)?.message ?? '';

describe('Azure rules on facts', () => {
  it('a fixed VHD of whole MiB, its footer last, passes with a note of its generation', () => {
    const out = azureFindings(facts(), 'vm.vhd');
    expect(codes(out)).toEqual(['azure-generation:info']);
    expect(out[0]!.message).toMatch(/^Generation 2 only: .*partition 1 .*--hyper-v-generation V2/);
  });

  it('every other format is azure-format, with the conversion for it', () => {
    const cases: Array<[Partial<ContainerFacts>, RegExp]> = [
      [{ subformat: 'dynamic' }, /a dynamic VHD, .*Add-AzVhd converts .*qemu-img convert -f vpc -O vpc -o subformat=fixed,force_size vm\.vhd vm-azure\.vhd, or on Hyper-V: Convert-VHD -Path vm\.vhd -DestinationPath vm-azure\.vhd -VHDType Fixed/],
      [{ subformat: 'differencing', hasParent: true }, /a differencing VHD/],
      [{ format: 'vhdx', subformat: undefined }, /a VHDX, and Azure takes only fixed VHDs \(not VHDX.*-f vhdx -O vpc.*Convert-VHD/],
      [{ format: 'raw', subformat: undefined }, /a raw image.*-f raw -O vpc -o subformat=fixed,force_size vm\.vhd vm-azure\.vhd$/],
      [{ format: 'qcow2', subformat: undefined }, /a qcow2 image.*-f qcow2 -O vpc/],
      [{ format: 'vmdk', subformat: 'monolithicSparse' }, /a monolithicSparse VMDK.*-f vmdk -O vpc/],
      [{ format: 'device', subformat: undefined }, /a drive, not an image file.*-f raw -O vpc/],
    ];
    for (const [container, text] of cases) {
      const out = azureFindings(facts({}, { fileSize: undefined, ...container }), 'vm.vhd');
      expect(out.filter((f) => f.code === 'azure-format').map((f) => f.severity), JSON.stringify(container)).toEqual(['error']);
      expect(message(out, 'azure-format')).toMatch(text);
    }
  });

  it('a compressed image must be uploaded decompressed; the disk inside is judged too', () => {
    const fixed = azureFindings(facts({}, { compression: 'gzip' }), 'vm.vhd.gz');
    expect(message(fixed, 'azure-format')).toMatch(/gzip-compressed.*\(gzip -dc vm\.vhd\.gz > vm\.vhd\)\. It holds a fixed VHD inside, which is what Azure takes/);
    const raw = azureFindings(facts({}, { format: 'raw', subformat: undefined, fileSize: undefined, compression: 'zstd' }), 'my disk.img.zst');
    expect(message(raw, 'azure-format')).toMatch(/zstd -dc 'my disk\.img\.zst' > 'my disk\.img'\)\. It holds a raw image inside, .*qemu-img convert -f raw -O vpc -o subformat=fixed,force_size 'my disk\.img' 'my disk-azure\.vhd'/);
  });

  it('a fixed VHD file must be its size plus the footer, exactly', () => {
    const out = azureFindings(facts({}, { fileSize: 150 * MiB + 512 + 4096 }), 'vm.vhd');
    expect(codes(out)).toEqual(['azure-file-size:error', 'azure-generation:info']);
    expect(out[0]!.message).toMatch(/157,291,008 bytes, but a fixed VHD of Current Size 157,286,400 bytes must be exactly that plus its 512-byte footer \(157,286,912 bytes\)/);
  });

  it('bytes after a fixed VHD\'s footer: truncate back to it, and its own size is the one judged', () => {
    const container = { format: 'raw' as const, subformat: undefined, fileSize: undefined, virtualSize: 150 * MiB + 512 + 1000, footerInside: { offset: 150 * MiB, currentSize: 150 * MiB, diskType: 2 } };
    const out = azureFindings(facts({}, container), 'vm.vhd');
    expect(codes(out)).toEqual(['azure-file-size:error', 'azure-generation:info']);
    expect(out[0]!.message).toMatch(/1,000 bytes written after its footer \(at byte 157286400\).*truncate -s 157286912 vm\.vhd \(not `gptdoctor repair`/);
  });

  it('a size that is not whole MiB: grow it, repair the GPT\'s backup (GPT only), and convert', () => {
    const size = 150 * MiB + 163_840;
    const vhd = azureFindings(facts({}, { subformat: 'fixed', virtualSize: size, fileSize: size + 512, sizeFromGeometry: true }), 'vm.vhd');
    expect(codes(vhd)).toEqual(['azure-generation:info', 'azure-size-unaligned:error']);
    expect(message(vhd, 'azure-size-unaligned')).toMatch(
      /163,840 bytes past a whole number of MiB.*CHS geometry's, as qemu-img makes it without -o force_size.*Grow it to 151 MiB: qemu-img convert -f vpc -O raw vm\.vhd vm-raw\.img; qemu-img resize -f raw vm-raw\.img 158334976; gptdoctor repair --yes vm-raw\.img .*; qemu-img convert -f raw -O vpc -o subformat=fixed,force_size vm-raw\.img vm-azure\.vhd$/,
    );
    const mbrRaw = azureFindings(facts({ table: 'mbr', esps: [] }, { format: 'raw', subformat: undefined, fileSize: undefined, virtualSize: 64 * MiB + 512 }), 'd.img');
    const text = message(mbrRaw, 'azure-size-unaligned');
    expect(text).toMatch(/Grow it to 65 MiB: qemu-img resize -f raw d\.img 68157440; qemu-img convert/);
    expect(text).not.toMatch(/gptdoctor repair|CHS/);
  });

  it('size limits: the upload\'s 20 MiB, the largest disk, an OS disk\'s 4,095 GiB, MBR\'s 2 TiB', () => {
    const at = (virtualSize: number, over: Partial<CloudFacts> = {}): string[] => codes(azureFindings(facts(over, { virtualSize, fileSize: virtualSize + 512 }), 'vm.vhd')).filter((c) => c.startsWith('azure-size-limit'));
    expect(at(16 * MiB)).toEqual(['azure-size-limit:error']);
    expect(at(20 * MiB)).toEqual([]);
    expect(at(AZURE_DISK_MAX)).toEqual(['azure-size-limit:warning']); // an OS disk no more, a data disk still
    expect(at(AZURE_DISK_MAX + MiB)).toEqual(['azure-size-limit:error']);
    expect(at(AZURE_OS_DISK_MAX)).toEqual([]);
    expect(at(AZURE_OS_DISK_MAX + MiB)).toEqual(['azure-size-limit:warning']);
    expect(at(AZURE_OS_DISK_MAX + MiB, { esps: [] })).toEqual([]); // nothing boots from it: a data disk
    expect(at(3 * TiB, { table: 'mbr', esps: [] })).toEqual(['azure-size-limit:warning']);
    expect(message(azureFindings(facts({}, { virtualSize: 16 * MiB, fileSize: 16 * MiB + 512 }), 'vm.vhd'), 'azure-size-limit')).toMatch(/20 MiB at least \(UploadSizeBytes from 20,972,032/);
  });

  it('says which generation can boot the disk', () => {
    const biosBoot = { partition: 2, label: 'partition 2 ("BIOS boot")' };
    const active = { partition: 1, label: 'partition 1 (active, NTFS "System Reserved")' };
    const gen = (over: Partial<CloudFacts>): string => message(azureFindings(facts(over), 'vm.vhd'), 'azure-generation');
    expect(gen({ biosBoot })).toMatch(/^Generation 1 or 2: .*ESP \(partition 1.*BIOS boot partition \(partition 2/);
    expect(gen({ esps: [], biosBoot })).toMatch(/^Generation 1 only: a GPT disk without an ESP that GRUB boots/);
    expect(gen({ esps: [] })).toMatch(/^no generation can boot it: a GPT disk with neither/);
    expect(gen({ hybridMbr: true })).toMatch(/^Generation 2 only: .*hybrid MBR/);
    expect(gen({ table: 'mbr', esps: [], active, mbr2gptReady: true })).toMatch(/^Generation 1 only: an MBR disk that BIOS boots from its active partition \(partition 1 .*mbr2gpt \/convert would convert it/);
    expect(gen({ table: 'mbr', esps: [], active, systems: [{ ...active, os: 'Windows', evidence: '' }] })).toMatch(/mbr2gpt first \(see mbr2gpt-blocked/);
    expect(gen({ table: 'mbr', esps: [], grubBootCode: true })).toMatch(/^Generation 1 only: .*GRUB's boot code in LBA 0.*GPT with an ESP/);
    expect(gen({ table: 'mbr', esps: [] })).toMatch(/^no generation can boot it: an MBR disk with no active partition/);
    expect(gen({ table: 'none', esps: [] })).toMatch(/no partition table/);
  });
});

describe('AWS rules on facts', () => {
  it('takes raw, fixed and dynamic VHD, VHDX and stream-optimized VMDK', () => {
    const accepted: Array<Partial<ContainerFacts>> = [
      { format: 'raw', subformat: undefined },
      { format: 'memory', subformat: undefined },
      { format: 'vhd', subformat: 'fixed' },
      { format: 'vhd', subformat: 'dynamic' },
      { format: 'vhdx', subformat: undefined },
      { format: 'vmdk', subformat: 'streamOptimized' },
    ];
    for (const container of accepted) expect(codes(awsFindings(facts({}, container), 'vm')), JSON.stringify(container)).toEqual(['aws-boot-mode:info']);
  });

  it('refuses the rest with the conversion to a stream-optimized VMDK', () => {
    const refused: Array<[Partial<ContainerFacts>, RegExp]> = [
      [{ format: 'qcow2', subformat: undefined }, /a qcow2 image, which VM Import\/Export does not take.*qemu-img convert -f qcow2 -O vmdk -o subformat=streamOptimized vm\.qcow2 vm-aws\.vmdk/],
      [{ format: 'vmdk', subformat: 'monolithicSparse' }, /a monolithicSparse VMDK, and VM Import\/Export takes VMDKs only stream-optimized/],
      [{ format: 'vmdk', subformat: 'monolithicSparse', hasParent: true }, /a differencing VMDK snapshot.*merge the chain/],
      [{ format: 'vhdx', subformat: 'differencing', hasParent: true }, /a differencing VHDX/],
      [{ format: 'device', subformat: undefined }, /a drive, not an image file/],
      [{ format: 'vhd', subformat: 'fixed', compression: 'xz' }, /xz-compressed.*xz -dc vm\.qcow2 > vm\.qcow2\.decompressed\): it holds a fixed VHD, which VM Import\/Export takes/],
      [{ format: 'qcow2', subformat: undefined, compression: 'gzip' }, /gzip-compressed.*\. Inside, this is a qcow2 image/],
    ];
    for (const [container, text] of refused) {
      const out = awsFindings(facts({}, container), 'vm.qcow2');
      expect(codes(out).filter((c) => c.startsWith('aws-format')), JSON.stringify(container)).toEqual(['aws-format:error']);
      expect(message(out, 'aws-format')).toMatch(text);
    }
  });

  it('refuses encrypted volumes, one finding each, and dual boot', () => {
    const out = awsFindings(facts({
      encrypted: [{ partition: 3, label: 'partition 3', kind: 'bitlocker' }, { partition: 5, label: 'partition 5', kind: 'luks' }],
      systems: [{ partition: 3, label: 'partition 3', os: 'Windows', evidence: '\\Windows\\System32 on NTFS' }, { partition: 4, label: 'partition 4', os: 'Linux', evidence: 'typed Linux x86-64 root (/)' }],
    }), 'vm.vhd');
    expect(codes(out)).toEqual(['aws-boot-mode:info', 'aws-dual-boot:error', 'aws-encrypted:error', 'aws-encrypted:error']);
    expect(out.filter((f) => f.code === 'aws-encrypted').map((f) => f.partition)).toEqual([3, 5]);
    expect(message(out, 'aws-encrypted')).toMatch(/BitLocker \(-FVE-FS-\).*manage-bde -off/);
    expect(message(out, 'aws-dual-boot')).toMatch(/^2 operating systems on one disk: Windows on partition 3: \\Windows\\System32 on NTFS; Linux on partition 4: typed Linux x86-64 root/);
    expect(codes(awsFindings(facts({ systems: [{ partition: 3, label: 'partition 3', os: 'Windows', evidence: '' }] }), 'vm.vhd'))).toEqual(['aws-boot-mode:info']);
  });

  it('says the boot mode, and warns when nothing boots', () => {
    const mode = (over: Partial<CloudFacts>): Finding => awsFindings(facts(over), 'vm.vhd').find((f) => f.code === 'aws-boot-mode')!;
    expect(mode({}).message).toMatch(/^uefi: .*--boot-mode uefi/);
    expect(mode({ biosBoot: { partition: 2, label: 'partition 2' } }).message).toMatch(/^uefi or legacy-bios/);
    expect(mode({ esps: [], biosBoot: { partition: 2, label: 'partition 2' } }).message).toMatch(/^legacy-bios: a GPT disk without an ESP/);
    expect(mode({ table: 'mbr', esps: [], active: { partition: 1, label: 'partition 1' } }).message).toMatch(/^legacy-bios: an MBR disk that BIOS boots from its active partition/);
    expect(mode({ table: 'mbr', esps: [], grubBootCode: true }).message).toMatch(/^legacy-bios: .*GRUB/);
    for (const over of [{ esps: [] }, { table: 'mbr' as const, esps: [] }, { table: 'none' as const, esps: [] }]) {
      expect(mode(over).severity, JSON.stringify(over)).toBe('warning');
      expect(mode(over).message).toMatch(/import-snapshot/);
    }
  });

  it('size: EBS volumes of 16 TiB, and MBR\'s 2 TiB', () => {
    const limits = (virtualSize: number, over: Partial<CloudFacts> = {}): string[] => codes(awsFindings(facts(over, { virtualSize }), 'vm.vhd')).filter((c) => c.startsWith('aws-size-limit'));
    expect(limits(EBS_VOLUME_MAX)).toEqual([]);
    expect(limits(EBS_VOLUME_MAX + MiB)).toEqual(['aws-size-limit:warning']);
    expect(limits(3 * TiB, { table: 'mbr', esps: [] })).toEqual(['aws-size-limit:warning']);
  });
});

describe('the documentation', () => {
  it('has a row for every cloud code in the README\'s Cloud import table, and check --help names each', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const section = readme.slice(readme.indexOf('### Cloud import (`--target`)'), readme.indexOf('## JSON output'));
    const cloud = FINDING_CODES.filter((c) => /^(azure|aws)-/.test(c));
    expect(cloud).toHaveLength(10);
    for (const code of cloud) expect(section, code).toContain(`| \`${code}\` |`);
    const help = gptdoctor(['check', '--help']).stdout;
    for (const code of cloud) expect(help, code).toContain(code);
  });
});

describe('GRUB in LBA 0', () => {
  it('is known by the text its boot code carries', () => {
    const sector = new Uint8Array(512);
    expect(hasGrubBootCode(sector)).toBe(false);
    sector.set(new TextEncoder().encode('GRUB \0Geom\0Hard Disk\0Read\0 Error'), 0x17b);
    expect(hasGrubBootCode(sector)).toBe(true);
    const inTable = new Uint8Array(512);
    inTable.set(new TextEncoder().encode('GRUB '), 446); // partition records are not boot code
    expect(hasGrubBootCode(inTable)).toBe(false);
  });
});

describe('an MBR disk made by sfdisk', () => {
  it.runIf(haveTools('sfdisk', 'mkfs.ext4'))('with an active Linux partition: Generation 1, legacy-bios, one system', async () => {
    const bytes = sfdiskImage('label: dos\nlabel-id: 0x0c10d000\nstart=2048, size=40MiB, type=83, bootable\n', 64);
    const dir = tempDir();
    try {
      const ext4 = join(dir.path, 'root.ext4');
      writeFileSync(ext4, '');
      truncateSync(ext4, 40 * MiB);
      run('mkfs.ext4', ['-q', '-F', ext4]);
      bytes.set(readFileSync(ext4).subarray(0, 4 * MiB), 2048 * 512);
    } finally {
      dir.cleanup();
    }
    const azure = await checkDisk(memory(bytes, false, 'bios.img'), { target: 'azure', profile: 'structure' });
    expect(message(azure.findings, 'azure-generation')).toMatch(/^Generation 1 only: an MBR disk that BIOS boots from its active partition \(partition 1 \(active, EXT4\)\)/);
    const aws = await checkDisk(memory(bytes, false, 'bios.img'), { target: 'aws', profile: 'structure' });
    expect(aws.findings.filter((f) => f.code.startsWith('aws-')).map((f) => `${f.code}:${f.severity}`)).toEqual(['aws-boot-mode:info']);
    expect(message(aws.findings, 'aws-boot-mode')).toMatch(/^legacy-bios: .*active partition/);
  });
});

describe.runIf(haveTools('qemu-img', 'gzip'))('images qemu-img makes from the windows fixture', () => {
  const dir = tempDir('gptdoctor-cloud-');
  const path = (name: string): string => join(dir.path, name);
  let raw = '';
  beforeAll(() => {
    raw = fixtureFile('windows', dir.path);
    const convert = (options: string[], out: string, from = raw): void => void run('qemu-img', ['convert', '-f', 'raw', ...options, from, path(out)]);
    convert(['-O', 'vpc', '-o', 'subformat=fixed,force_size'], 'fixed.vhd');
    convert(['-O', 'vpc', '-o', 'subformat=dynamic'], 'dynamic.vhd');
    convert(['-O', 'vpc', '-o', 'subformat=fixed'], 'chs.vhd');
    convert(['-O', 'vhdx'], 'disk.vhdx');
    convert(['-O', 'qcow2'], 'disk.qcow2');
    convert(['-O', 'vmdk'], 'sparse.vmdk');
    convert(['-O', 'vmdk', '-o', 'subformat=streamOptimized'], 'stream.vmdk');
    // A raw file of 64 MiB + 512 bytes: qemu-img keeps that size with force_size, and Azure refuses it.
    writeFileSync(path('odd.img'), '');
    truncateSync(path('odd.img'), 64 * MiB + 512);
    convert(['-O', 'vpc', '-o', 'subformat=fixed,force_size'], 'odd.vhd', path('odd.img'));
    // The fixed VHD with 4 KiB before its footer, with 1 MiB after it, and cut 4 KiB short.
    const fixed = readFileSync(path('fixed.vhd'));
    writeFileSync(path('padded.vhd'), Buffer.concat([fixed.subarray(0, fixed.length - 512), Buffer.alloc(4096), fixed.subarray(fixed.length - 512)]));
    copyFileSync(path('fixed.vhd'), path('appended.vhd'));
    truncateSync(path('appended.vhd'), fixed.length + MiB);
    copyFileSync(path('fixed.vhd'), path('cut.vhd'));
    truncateSync(path('cut.vhd'), fixed.length - 4096);
    run('gzip', ['-k', path('fixed.vhd')]);
  }, 120_000);
  afterAll(() => dir.cleanup());

  const cloud = (r: CheckReport): string[] => r.findings.filter((f) => /^(azure|aws)-/.test(f.code)).map((f) => `${f.code}:${f.severity}`).sort();
  const azure = (name: string): Promise<CheckReport> => checkDisk(path(name), { target: 'azure' });
  const aws = (name: string): Promise<CheckReport> => checkDisk(path(name), { target: 'aws' });

  it('a fixed VHD made with force_size is what Azure takes, and AWS too', async () => {
    expect(statSync(path('fixed.vhd')).size).toBe(statSync(raw).size + 512);
    const report = await azure('fixed.vhd');
    expect(report.target).toBe('azure');
    expect(cloud(report)).toEqual(['azure-generation:info']);
    expect(cloud(await aws('fixed.vhd'))).toEqual(['aws-boot-mode:info']);
    // The other rules are those of the disk, whatever the target.
    const plain = await checkDisk(path('fixed.vhd'));
    expect(report.findings.filter((f) => !/^(azure|aws)-/.test(f.code))).toEqual(plain.findings);
    expect('target' in plain).toBe(false);
  });

  it('a dynamic VHD, a VHDX, a qcow2 and a sparse VMDK are not; a CHS-sized VHD is not whole MiB', async () => {
    expect(cloud(await azure('dynamic.vhd'))).toEqual(['azure-format:error', 'azure-generation:info', 'azure-size-unaligned:error']);
    expect(cloud(await azure('disk.vhdx'))).toEqual(['azure-format:error', 'azure-generation:info']);
    expect(cloud(await azure('disk.qcow2'))).toEqual(['azure-format:error', 'azure-generation:info']);
    const chs = await azure('chs.vhd');
    expect(cloud(chs)).toEqual(['azure-generation:info', 'azure-size-unaligned:error']);
    expect(message(chs.findings, 'azure-size-unaligned')).toMatch(/CHS geometry's/);
    expect(chs.findings.map((f) => f.code)).toContain('backup-not-at-end'); // the size grew past the GPT's end
    const odd = await azure('odd.vhd');
    expect(cloud(odd)).toEqual(['azure-generation:info', 'azure-size-unaligned:error']);
    expect(message(odd.findings, 'azure-size-unaligned')).toMatch(/67,109,376 bytes, 512 bytes past a whole number of MiB/);
  });

  it('AWS takes the VHDs, VHDX and stream-optimized VMDK, not qcow2 or a sparse VMDK', async () => {
    for (const name of ['dynamic.vhd', 'disk.vhdx', 'stream.vmdk']) expect(cloud(await aws(name)), name).toEqual(['aws-boot-mode:info']);
    for (const name of ['disk.qcow2', 'sparse.vmdk']) expect(cloud(await aws(name)), name).toEqual(['aws-boot-mode:info', 'aws-format:error']);
  });

  it('a fixed VHD whose file is not its size plus the footer: azure-file-size', async () => {
    const padded = await azure('padded.vhd');
    expect(cloud(padded)).toEqual(['azure-file-size:error', 'azure-generation:info']);
    const appended = await azure('appended.vhd');
    expect(appended.source.format).toBe('raw'); // the footer is no longer the last 512 bytes
    expect(cloud(appended)).toEqual(['azure-file-size:error', 'azure-generation:info']);
    expect(message(appended.findings, 'azure-file-size')).toMatch(/1,048,576 bytes written after its footer \(at byte 157286400\).*truncate -s 157286912 /);
    // Cut short, the footer is gone: a raw image whose GPT lost its backup.
    const cut = await azure('cut.vhd');
    expect(cloud(cut)).toEqual(['azure-format:error', 'azure-generation:info', 'azure-size-unaligned:error']);
    expect(cut.findings.map((f) => f.code)).toContain('image-truncated');
  });

  it('a compressed fixed VHD: decompress it before uploading', async () => {
    const report = await azure('fixed.vhd.gz');
    expect(cloud(report)).toEqual(['azure-format:error', 'azure-generation:info']);
    expect(message(report.findings, 'azure-format')).toMatch(/gzip-compressed.*It holds a fixed VHD inside, which is what Azure takes/);
    expect(cloud(await aws('fixed.vhd.gz'))).toEqual(['aws-boot-mode:info', 'aws-format:error']);
  });

  it('check --target on the command line: JSON with the target, text with it, exit codes', () => {
    const json = gptdoctor(['check', '--target', 'azure', '--json', path('fixed.vhd')]);
    expect(json.status).toBe(0);
    const report = JSON.parse(json.stdout) as CheckReport;
    expect(report.target).toBe('azure');
    expect(Object.keys(report).slice(0, 5)).toEqual(['source', 'identity', 'profile', 'profileApplied', 'target']);
    expect(report.source.container).toMatchObject({ type: 'fixed', fileSize: statSync(path('fixed.vhd')).size });
    expect(gptdoctor(['check', '--target', 'azure', '--fail-on', 'warning', path('fixed.vhd')]).status).toBe(1); // esp-too-small

    const text = gptdoctor(['check', '--target', 'azure', path('disk.vhdx')]);
    expect(text.status).toBe(1);
    expect(text.stdout).toMatch(/rules: windows \(auto\), target: Azure \(VHD upload\)/);
    expect(text.stdout).toMatch(/azure-format: this is a VHDX/);
    expect(text.stdout).toMatch(/✗ 1 error, 1 warning: the image is not ready for Azure import\.$/m);
    expect(gptdoctor(['check', '--target', 'aws', path('disk.vhdx')]).status).toBe(0);

    const bad = gptdoctor(['check', '--target', 'gcp', path('fixed.vhd')]);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/^gptdoctor: --target must be one of azure, aws \(got gcp\)/);
    expect(gptdoctor(['check', '--help']).stdout).toMatch(/--target <cloud>[\s\S]*Cloud import pre-flight \(--target\)[\s\S]*subformat=fixed,force_size/);
  });

  it('scan --target applies to every image', () => {
    const r = gptdoctor(['scan', '--json', '--target', 'aws', path('disk.qcow2'), path('stream.vmdk')]);
    expect(r.status).toBe(1);
    // Both come from one fixture, so late lines name their shared GUIDs after the reports.
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as CheckReport & { late?: string }).filter((l) => !l.late);
    expect(lines.map((l) => l.target)).toEqual(['aws', 'aws']);
    expect(lines.map((l) => l.findings.some((f) => f.code === 'aws-format'))).toEqual([true, false]);
  });
});
