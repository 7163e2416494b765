import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { reportError, setDebug } from './errors.js';

/** Set by the bundlers (scripts/bundle.js, scripts/build-sea.js); a single executable has no package.json beside it. */
declare const __GPTDOCTOR_VERSION__: string | undefined;
const VERSION =
  typeof __GPTDOCTOR_VERSION__ === 'string'
    ? __GPTDOCTOR_VERSION__
    : (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

/** What `check --target` judges, so that --help teaches it without the README. */
const CLOUD_HELP =
  'Cloud import pre-flight (--target), on top of the profile\'s rules; each is a finding (README: Finding codes):\n' +
  '  azure  Azure uploads only a fixed VHD whose virtual size is a whole number of MiB and whose file is\n' +
  '         that size plus the 512-byte footer (azure-format, azure-size-unaligned, azure-file-size);\n' +
  '         20 MiB to 32,767 GiB, an OS disk at most 4,095 GiB (azure-size-limit); Generation 1 boots\n' +
  '         MBR by BIOS, Generation 2 GPT by UEFI (azure-generation says which the disk can be).\n' +
  '         Convert: qemu-img convert -f FORMAT -O vpc -o subformat=fixed,force_size IN OUT.vhd\n' +
  '  aws    VM Import/Export takes raw, VHD/VHDX (fixed or dynamic) and stream-optimized VMDK (aws-format),\n' +
  '         no encrypted volume, BitLocker or LUKS (aws-encrypted), no dual boot (aws-dual-boot); GPT with\n' +
  '         an ESP imports in UEFI boot mode, MBR in Legacy BIOS (aws-boot-mode); EBS\'s 16 TiB (aws-size-limit).\n\n';

/**
 * The command line. Each command's module is imported only when that command runs, so
 * `gptdoctor --version` costs little more than starting Node. A command's description is one
 * paragraph without line breaks: commander wraps it to the terminal, and a break of our own would
 * leave a short line behind every wrapped one.
 */
export function buildProgram(setExit: (code: number) => void): Command {
  const program = new Command('gptdoctor')
    .description('Reads GUID Partition Tables byte by byte, tells exactly what is wrong with them, and repairs them safely.')
    .version(VERSION)
    .option('--debug', 'on an internal error, also print its stack trace (anywhere on the line)')
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({ outputError: (text, write) => write(`gptdoctor: ${text.replace(/^error: /, '')}`) })
    .exitOverride();

  const run = <T extends { json?: boolean }>(action: (opts: T, ...args: string[]) => Promise<number>) =>
    async (...args: unknown[]): Promise<void> => {
      const positional = args.filter((a): a is string => typeof a === 'string');
      const opts = args.find((a) => typeof a === 'object' && a !== null && !(a instanceof Command)) as T;
      try {
        setExit(await action(opts, ...positional));
      } catch (err) {
        setExit(reportError(err, Boolean(opts?.json)));
      }
    };

  program
    .command('inspect')
    .summary('show every field of the MBR, both GPT headers and the partition entries')
    .description(
      'Shows every field of the protective MBR, the primary and the backup GPT header side by side ' +
        '(marking fields that differ and everything invalid), and the partition table, read-only. ' +
        'When the primary copy is damaged the table comes from the backup, and the output says so. ' +
        'The sector size is found by looking for a valid header at 512, 4096, 1024 and 2048 bytes.',
    )
    .argument('<disk>', 'disk image (raw, gzip-compressed, VHD, VHDX, qcow2 or VMDK), device, or http(s):// URL (read by byte ranges)')
    .option('--json', 'print one JSON object (see README: JSON output)')
    .option('--sector-size <bytes>', 'force the logical sector size (512, 1024, 2048 or 4096)')
    .option('--hexdump', 'also show the raw MBR and header sectors with the decoded fields beside them')
    .option('--parent <path>', 'the parent of a differencing VHD/VHDX or VMDK snapshot, when it is not where the child says')
    .addHelpText('after', '\nExamples:\n  gptdoctor inspect disk.img\n  gptdoctor inspect --hexdump evidence.img\n  gptdoctor inspect --json disk.img | jq .partitions\n  gptdoctor inspect --sector-size 4096 4kn.img\n  gptdoctor inspect \'https://bucket.s3.amazonaws.com/disk.vhd?X-Amz-Signature=…\'   (the query is never printed)\n\nExit status: 0 a valid GPT was found, 1 no valid GPT, 2 could not read the disk.')
    .action(run(async (opts: { json?: boolean; sectorSize?: string; hexdump?: boolean }, disk = '') => (await import('./inspect.js')).runInspect(disk, opts)));

  program
    .command('check')
    .summary('say exactly what is wrong with a disk\'s GPT, and how to fix it')
    .description(
      'Checks the protective MBR, both GPT copies (each on its own, then against each other), every ' +
        'partition entry, and, on boot disks, the EFI System Partition, MSR and Recovery partition the ' +
        'way Windows Setup and UEFI firmware need them. The ESP is recognised by its contents (a FAT ' +
        'volume holding \\EFI\\…\\*.efi) even when its type GUID is wrong. Reports what is on the disk; ' +
        'nothing is written. Each fixable finding comes with the gptdoctor command that fixes it.',
    )
    .argument('<disk>', 'disk image, device or http(s):// URL')
    .option('--json', 'print one JSON object: { source, profile, ok, findings, partitions }')
    .option('--profile <name>', 'auto (default: Windows rules only on disks with Windows boot evidence), windows, uefi or structure', 'auto')
    .option('--fail-on <severity>', 'exit 1 on errors only (default) or on warnings too', 'error')
    .option('--sector-size <bytes>', 'force the logical sector size (512, 1024, 2048 or 4096)')
    .option('--parent <path>', 'the parent of a differencing VHD/VHDX or VMDK snapshot, when it is not where the child says')
    .option('--target <cloud>', 'also pre-flight the image for a cloud import: azure (VHD upload) or aws (VM Import/Export)')
    .addHelpText(
      'after',
      '\nExamples:\n  gptdoctor check disk.img\n  gptdoctor check --profile windows --json disk.img\n  gptdoctor check --fail-on warning /dev/sdb\n  gptdoctor check snapshot.avhdx --parent /mnt/vms/base.vhdx\n  gptdoctor check \'https://account.blob.core.windows.net/vhds/disk.vhd?sv=…&sig=…\'\n  gptdoctor check --target azure vm.vhd\n  gptdoctor check --target aws --json vm.vmdk\n\n' +
        CLOUD_HELP +
        'Exit status: 0 no error finding, 1 at least one error (or warning with --fail-on warning), 2 could not run.',
    )
    .action(run(async (opts: { json?: boolean }, disk = '') => (await import('./check.js')).runCheck(disk, opts)));

  program
    .command('scan')
    .summary('check many disk images at once; one result per image')
    .description(
      'Checks every image named, every file under a directory (recursively) and every match of a ' +
        'quoted glob, concurrently in one process. Containers are recognised by content, not name. ' +
        'Prints one line per image (JSON Lines with --json), a progress bar on a terminal, and a ' +
        'summary on stderr. One unreadable or hostile image never stops the scan. After the last ' +
        'image it names the images that share a disk GUID, MBR disk signature or partition GUID ' +
        '(copied VM disks: Windows takes all but one of them offline).',
    )
    .argument('[paths...]', 'image files, directories, glob patterns or http(s):// URLs')
    .option('--from-file <file>', 'also scan the paths or URLs listed in FILE, one per line (- reads stdin; # starts a comment)')
    .option('--shard <k/n>', 'scan only the K-th of N equal slices of the list (K from 1): for batch engines that split a library')
    .option('--json', 'print one check report per line (JSON Lines)')
    .option('--jobs <n>', 'images checked at the same time', '8')
    .option('--jobs-per-host <n>', 'at most this many of them from one web server or storage account', '6')
    .option('--profile <name>', 'auto, windows, uefi or structure', 'auto')
    .option('--fail-on <severity>', 'error (default) or warning', 'error')
    .option('--sector-size <bytes>', 'force the logical sector size for every image')
    .option('--target <cloud>', 'also pre-flight every image for a cloud import: azure or aws (see check --help)')
    .addHelpText(
      'after',
      "\nExamples:\n  gptdoctor scan images/\n  gptdoctor scan --json 'golden/**/*.img' > report.jsonl\n  gptdoctor scan --profile windows --fail-on warning a.img b.vhdx\n" +
        '  gptdoctor scan --json --from-file library.txt --shard 3/16 > shard-3.jsonl   (one worker of 16; cat merges them)\n' +
        "  find /srv/images -name '*.vhdx' | gptdoctor scan --from-file - --profile structure\n\n" +
        'Exit status: 0 every image clean, 1 some image has an error finding (or a warning with --fail-on warning), 2 some image could not be read.',
    )
    .action(async (paths: string[], opts: { json?: boolean }) => {
      try {
        setExit(await (await import('./scan.js')).runScan(paths, opts));
      } catch (err) {
        setExit(reportError(err, Boolean(opts.json)));
      }
    });

  const writeOptions = (cmd: Command): Command =>
    cmd
      .option('--dry-run', 'show the plan (field by field, and every sector write) and write nothing')
      .option('--yes', 'write without asking (required when not on a terminal)')
      .option('--undo-file <file>', 'where to keep the undo journal (default: next to the image, or the current directory for devices)')
      .option('--json', 'print the plan and the result as JSON')
      .option('--sector-size <bytes>', 'force the logical sector size (512, 1024, 2048 or 4096)')
      .option('--parent <path>', 'the parent of a differencing VHD/VHDX or VMDK snapshot, when it is not where the child says')
      .option('--output <file>', 'leave the disk as it is: write a repaired sparse raw copy to this new file (for .gz, qcow2, VMDK, or a VHD/VHDX block that is not allocated)');

  writeOptions(
    program
      .command('set')
      .summary('change one partition entry (type, attributes, name, GUID) in both copies of the table')
      .description(
        'Rewrites the named fields of one entry in the primary and the backup table, with both CRCs and ' +
          'both headers updated. Unknown attribute bits and reserved bytes are kept. Like diskpart\'s ' +
          '`set id=` and `gpt attributes=`, or sgdisk -t/-A/-c, but planned, journaled and verified: ' +
          'an undo file keeps every original byte (`gptdoctor undo FILE`).',
      )
      .argument('<disk>', 'disk image or device (a URL only with --output)')
      .argument('[partition]', '1-based entry number, as gdisk and check show it (not with --new-guids)')
      .option('--type <type>', 'GUID, gdisk code (EF00, 0C01, 0700, 2700, 8300…) or name (esp, msr, basic, recovery, linux…)')
      .option('--attributes <attrs>', 'full value like diskpart (0x8000000000000001) or edits (+no-drive-letter,-hidden,+required,+63)')
      .option('--name <name>', 'partition name, up to 36 UTF-16 code units')
      .option('--guid <guid>', 'new unique partition GUID, or "random" (boot entries and BCD refer to it!)')
      .option('--new-guids', 'the whole disk: a new disk GUID and a new GUID for every partition, so a copy no longer collides with its original (like sgdisk -G)'),
  )
    .addHelpText(
      'after',
      '\nExamples:\n  gptdoctor set disk.img 1 --type esp --dry-run\n  gptdoctor set disk.img 1 --type esp --yes\n  gptdoctor set vm.qcow2 1 --type esp --output vm-fixed.img --yes   (the qcow2 is not changed)\n  gptdoctor set \\\\.\\PhysicalDrive0 4 --attributes 0x8000000000000001 --yes\n  gptdoctor set /dev/sdb 2 --attributes +no-drive-letter,-hidden --name "Microsoft reserved partition"\n  gptdoctor set copy.vhdx --new-guids --yes   (a copied disk: new disk and partition GUIDs, then bcdboot)\n\n' +
        'Exit status: 0 written and verified (or nothing to do / dry run), 2 refused or failed.',
    )
    .action(run(async (opts: { json?: boolean }, disk = '', partition = '') => (await import('./set.js')).runSet(disk, partition, opts)));

  writeOptions(
    program
      .command('repair')
      .summary('rebuild a damaged copy from the good one, move the backup to the disk end, fix the MBR')
      .description(
        'Fixes what check reports about the structure: rebuilds a damaged primary from the backup or ' +
          'the reverse, moves the backup header and array to the real end of a grown disk (zeroing the ' +
          'stale header), writes a protective MBR where it is missing, invalid or hybrid, and, when the ' +
          'Windows or UEFI rules apply, the ESP/MSR type and attribute fixes check proposed. The disk GUID ' +
          'and partition GUIDs never change. Planned, journaled and verified like set.',
      )
      .argument('<disk>', 'disk image or device (a URL only with --output)')
      .option('--profile <name>', 'auto, windows, uefi or structure (structure: never touch entries)', 'auto')
      .option('--keep-hybrid', 'keep the extra records of a hybrid MBR')
      .option('--replace-mbr', 'overwrite an MBR that holds real partitions (when the GPT is the table in use)'),
  )
    .addHelpText('after', '\nExamples:\n  gptdoctor repair --dry-run grown.img\n  gptdoctor repair --yes --profile structure disk.img\n  gptdoctor repair grown.qcow2 --output grown-fixed.img --yes\n\nThe source copy is one whose header, array CRC and entries are all sound; when no copy is,\nrepair refuses and shows how the copies differ.\n\nExit status: 0 repaired and verified (or nothing to do / dry run) and the structure checks clean,\n1 done, but a structural error repair does not fix is left (a duplicate partition GUID: its fix line is\nprinted), 2 refused or failed.')
    .action(run(async (opts: { json?: boolean }, disk = '') => (await import('./repair.js')).runRepair(disk, opts)));

  program
    .command('undo')
    .summary('restore the original bytes from an undo file')
    .description(
      'Puts back every sector a set or repair changed, after checking that the disk still holds what ' +
        'gptdoctor wrote (or already the originals, so an interrupted write or undo can be finished).',
    )
    .argument('<undo-file>', 'the journal a write command printed')
    .option('--yes', 'restore without asking (required when not on a terminal)')
    .option('--force', 'restore even if the disk changed since')
    .option('--disk <path>', 'the disk, when it moved since the undo file was written')
    .option('--json', 'print the result as JSON')
    .addHelpText(
      'after',
      '\nExamples:\n  gptdoctor undo disk.img.gptdoctor-undo-20261124T120000123Z.json\n  gptdoctor undo --yes disk.img.gptdoctor-undo-20261124T120000123Z.json\n' +
        '  gptdoctor undo --disk /dev/sdb sdb.gptdoctor-undo-20261124T120000123Z.json --yes\n\n' +
        'Exit status: 0 restored and verified (or nothing to restore), 2 refused or failed.',
    )
    .action(run(async (opts: { json?: boolean }, file = '') => (await import('./undo.js')).runUndo(file, opts)));

  writeOptions(
    program
      .command('recover')
      .summary('hunt the whole disk for lost or orphaned GPT structures, and restore one')
      .description(
        'Reads the whole disk and finds every CRC-valid GPT header at any LBA, for 512- and 4096-byte ' +
          'sectors (orphaned backups at the old end of grown disks, stale copies left by relocations, ' +
          'tables written for another sector size), and entry arrays that survived without a header. ' +
          'Ranks the tables it could restore, with the evidence for each. Read-only unless --apply.',
      )
      .argument('<disk>', 'disk image, device or http(s):// URL (with --apply, a URL only with --output)')
      .option('--apply <n>', 'write candidate n through the write protocol (undo file, verify)')
      .option('--replace-table', 'let --apply write over a valid GPT, or write a table outlined from filesystems alone')
      .option('--replace-mbr', 'let --apply write over an MBR that holds partitions'),
  )
    .addHelpText(
      'after',
      '\nExamples:\n  gptdoctor recover broken.img\n  gptdoctor recover --json broken.img\n  gptdoctor recover broken.img --apply 1 --dry-run\n  gptdoctor recover broken.img --apply 1 --yes\n\n' +
        'Safety: --apply refuses (exit 2, nothing written) to replace a valid GPT or a table outlined\nfrom filesystems unless --replace-table is given, and an MBR with partitions unless\n--replace-mbr is; the refusal lists each partition that would be lost or changed.\n\n' +
        'Exit status: 0 candidates found (or applied), 1 nothing found, 2 could not run or refused.',
    )
    .action(run(async (opts: { json?: boolean }, disk = '') => (await import('./recover.js')).runRecover(disk, opts)));

  program
    .command('drives')
    .summary('list the physical drives (needs the native addon)')
    .description('Lists whole disks as the OS reports them: size, logical/physical sector size, removable and read-only flags, model, and the partition style gptdoctor reads from each (gpt, mbr, none).')
    .option('--json', 'print a JSON array')
    .addHelpText('after', '\nExamples:\n  gptdoctor drives\n  gptdoctor drives --json\n\nExit status: 0 listed, 2 the native addon is missing or listing failed.')
    .action(run(async (opts: { json?: boolean }) => (await import('./drives.js')).runDrives(opts)));

  return program;
}

export async function main(argv: string[]): Promise<number> {
  ignoreClosedPipes();
  // --debug is global and may stand anywhere: taken out before commander sees the command's options.
  if (argv.slice(2).includes('--debug')) {
    setDebug(true);
    argv = argv.filter((a, i) => i < 2 || a !== '--debug');
  }
  let exitCode = 0;
  const program = buildProgram((code) => (exitCode = code));
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version end with code 0; usage mistakes exit 2 like every other refusal.
      return err.exitCode === 0 ? 0 : 2;
    }
    return reportError(err, argv.includes('--json'));
  }
  return exitCode;
}

/**
 * `gptdoctor check --json disk | head` closes our stdout early. Further output is dropped
 * instead of dying with an EPIPE stack trace, and the command still runs to its end: exiting
 * there could cut a write protocol short.
 */
function ignoreClosedPipes(): void {
  for (const stream of [process.stdout, process.stderr]) {
    if (stream.listenerCount('error') > 0) continue;
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EPIPE') throw err;
    });
  }
}
