/** What `check` reports: one finding per problem, with a stable code (README: Finding codes). */
export type Severity = 'error' | 'warning' | 'info';

export interface Finding {
  code: FindingCode;
  severity: Severity;
  message: string;
  /** 1-based entry index the finding concerns. */
  partition?: number;
  /** A complete gptdoctor command line that repairs this finding. */
  fix?: string;
  /** For `mbr2gpt-blocked`: each thing that stops the conversion, one sentence each (the message joins them). */
  reasons?: string[];
  /** When the fix is a `set`: the edit it makes to `partition` (what `repair` applies for boot fixes). */
  edit?: FixEdit;
}

/** The fields a `set` fix line changes, as its options spell them. */
export interface FixEdit {
  type?: string;
  attributes?: string;
  guid?: string;
}

export const FINDING_CODES = [
  // structure
  'no-gpt',
  'mbr-disk',
  'pmbr-missing',
  'pmbr-invalid',
  'hybrid-mbr',
  'primary-header-bad',
  'primary-entries-bad',
  'backup-header-bad',
  'backup-entries-bad',
  'header-unusual',
  'array-small',
  'array-in-usable-range',
  'headers-disagree',
  'backup-not-at-end',
  'image-truncated',
  'partition-overlap',
  'partition-out-of-range',
  'partition-in-table-area',
  'partition-guid-duplicate',
  'entry-size-unusual',
  'partition-misaligned',
  'sector-size-mismatch',
  // across the images of a scan (scan/collision-findings.ts): known only once every image is read
  'disk-guid-collision',
  'partition-guid-collision',
  // UEFI / Windows
  'esp-missing',
  'esp-type',
  'esp-not-fat',
  'esp-fat-clusters',
  'esp-fat16',
  'esp-multiple',
  'esp-too-small',
  'esp-low-space',
  'esp-attributes',
  'msr-missing',
  'msr-type',
  'msr-formatted',
  'msr-attributes',
  'recovery-attributes',
  'recovery-placement',
  'winre-low-space',
  'winre-image-missing',
  'recovery-encrypted',
  'os-low-space',
  'bcd-missing',
  'bcd-unreadable',
  'bcd-device-missing',
  // MBR disks that show Windows: what mbr2gpt /validate would say
  'mbr2gpt-blocked',
  'mbr2gpt-ready',
  // cloud import pre-flight (--target, cloud-rules.ts): Azure's VHD upload, AWS VM Import/Export
  'azure-format',
  'azure-file-size',
  'azure-size-unaligned',
  'azure-size-limit',
  'azure-generation',
  'aws-format',
  'aws-encrypted',
  'aws-dual-boot',
  'aws-size-limit',
  'aws-boot-mode',
] as const;

export type FindingCode = (typeof FINDING_CODES)[number];

export type Profile = 'auto' | 'windows' | 'uefi' | 'structure';
export const PROFILES: readonly Profile[] = ['auto', 'windows', 'uefi', 'structure'];

/** A cloud whose image import `check --target` pre-flights (cloud-rules.ts), on top of the profile's rules. */
export type CloudTarget = 'azure' | 'aws';
export const CLOUD_TARGETS: readonly CloudTarget[] = ['azure', 'aws'];

export const SEVERITY_RANK: Record<Severity, number> = { error: 0, warning: 1, info: 2 };

/** Quotes a path for a POSIX shell (or leaves it bare when it needs no quoting). */
export function shellQuote(text: string): string {
  return /^[A-Za-z0-9_./:@%+=,\\-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;
}

/**
 * Builds a finding's fix line: `gptdoctor VERB DISK ARGS`. Where the disk cannot be written in
 * place, check.ts appends `--output COPY` afterwards (see fix-target.ts).
 */
export interface FixCommand {
  (verb: 'set' | 'repair', args?: string): string;
  /** The disk as a shell word, for messages that say what to run. */
  readonly disk: string;
}

export function fixCommand(diskArg: string): FixCommand {
  const disk = shellQuote(diskArg);
  return Object.assign((verb: 'set' | 'repair', args?: string) => `gptdoctor ${verb} ${disk}${args ? ` ${args}` : ''}`, { disk });
}

/** The `fix` and `edit` of a finding fixed by `gptdoctor set DISK N …`: one source for both. */
export function setFix(fix: FixCommand, partition: number, edit: FixEdit): { fix: string; edit: FixEdit } {
  const args = [String(partition), ...(edit.type ? [`--type ${edit.type}`] : []), ...(edit.attributes ? [`--attributes ${edit.attributes}`] : []), ...(edit.guid ? [`--guid ${edit.guid}`] : [])];
  return { fix: fix('set', args.join(' ')), edit };
}
