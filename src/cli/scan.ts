import { EXIT, parseSectorSize, UsageError } from './errors.js';
import { parseFailOn, parseProfile, parseTarget } from './check.js';
import { expandPaths, type SkippedEntry } from '../scan/expand-paths.js';
import type { ImagePart } from '../scan/image-parts.js';
import { DEFAULT_JOBS_PER_HOST, scanDisks, type ScanResult } from '../scan/scan.js';
import { readEntryList } from '../scan/entry-list.js';
import { takeShard } from '../scan/shard.js';
import { parseShard } from './scan-options.js';
import { IdentityCollisions } from '../scan/identity-collisions.js';
import { imageIdentity } from '../scan/image-identity.js';
import { collisionFindings } from '../scan/collision-findings.js';
import { collisionSection, collisionTally, type CollisionTally } from './scan-collisions.js';
import { SEVERITY_RANK } from '../check/finding.js';
import { colorizer, table } from './format.js';
import { verdict } from './render-check.js';
import { displayPath, redactUrlsIn } from '../disk/url-redact.js';
import { differencingChildren } from '../disk/children.js';
import type { FixPlace } from '../check/fix-target.js';
import type { CollisionGroup } from '../scan/identity-collisions.js';

export interface ScanCliOptions {
  json?: boolean;
  jobs?: string;
  jobsPerHost?: string;
  fromFile?: string;
  shard?: string;
  profile?: string;
  failOn?: string;
  sectorSize?: string;
  target?: string;
}

type Outcome = 'ok' | 'warnings' | 'errors' | 'unreadable' | 'not-disk';

/**
 * `gptdoctor scan`: one result per image (JSON Lines with --json), a progress line on a TTY,
 * then the identities shared across images (a late JSON line per image involved, or a text
 * section), and a summary on stderr. Exit 2 if any image was unreadable, else 1 if any had a
 * finding at or above --fail-on (collisions included), else 0.
 */
export async function runScan(args: string[], options: ScanCliOptions): Promise<number> {
  const profile = parseProfile(options.profile);
  const failOn = parseFailOn(options.failOn);
  const sectorSize = parseSectorSize(options.sectorSize);
  const target = parseTarget(options.target);
  const jobs = parseJobs('--jobs', options.jobs, 8);
  const jobsPerHost = parseJobs('--jobs-per-host', options.jobsPerHost, DEFAULT_JOBS_PER_HOST);
  const shard = parseShard(options.shard);
  if (!args.length && options.fromFile === undefined) throw new UsageError('name the images to scan, or give a list of them with --from-file FILE (- for stdin)');
  const listed = options.fromFile === undefined ? [] : await readEntryList(options.fromFile);
  const expanded = await expandPaths([...args, ...listed]);
  const { named, parts, skipped } = expanded;
  // Sharding comes after the walk, so that every worker given the same arguments deals from the same list.
  const paths = takeShard(expanded.files, shard);
  let namedNotDisk = 0;
  if (!expanded.files.length) throw new UsageError(parts.length ? `nothing to scan: the ${parts.length} files found are parts of other images` : 'nothing to scan: no files matched');

  const progress = process.stderr.isTTY ? process.stderr : undefined;
  const counts: Record<Outcome, number> = { ok: 0, warnings: 0, errors: 0, unreadable: 0, 'not-disk': 0 };
  const codes = new Map<string, number>();
  // A collision with a later image is known only at the end: keep each image's few GUIDs, and
  // whether it was clean, so that one found colliding then counts as an image with warnings.
  const identities = new IdentityCollisions();
  const clean = new Uint8Array(paths.length);
  // Where each image's fixes write (check/fix-target.ts fixPlace): an array of small codes, not a map, for 100,000 images.
  const fixPlaces = new Uint8Array(paths.length);
  let done = 0;
  const started = Date.now();
  // Ctrl-C ends the scan after the image in hand, with the summary of what was scanned.
  let interrupted = false;
  const onInterrupt = (): void => void (interrupted = true);
  process.once('SIGINT', onInterrupt);
  let lastTurn = Date.now();
  for await (const result of scanDisks(paths, { profile, jobs, jobsPerHost, ...(target ? { target } : {}), ...(sectorSize !== undefined ? { sectorSize } : {}) })) {
    // Reads are synchronous under promises, so a scan runs on microtasks alone: give the event
    // loop a turn now and then, or a SIGINT would be seen only when the scan is over.
    if (Date.now() - lastTurn > 50) {
      await new Promise((resolve) => setImmediate(resolve));
      lastTurn = Date.now();
    }
    if (interrupted) break;
    const image = done++;
    const outcome = classify(result);
    counts[outcome]++;
    if (outcome === 'ok') clean[image] = 1;
    if ('report' in result) {
      identities.add(image, imageIdentity(result.report));
      fixPlaces[image] = FIX_PLACES.indexOf(result.fixPlace);
    }
    if (outcome === 'not-disk' && named.has(result.path)) namedNotDisk++;
    if ('report' in result) for (const f of result.report.findings) if (f.severity !== 'info') codes.set(f.code, (codes.get(f.code) ?? 0) + 1);
    if (progress) progress.write('\r\x1b[K');
    process.stdout.write(options.json ? JSON.stringify('report' in result ? result.report : { source: { path: displayPath(result.path) }, error: { ...result.error, message: redactUrlsIn(result.error.message) } }) + '\n' : line(result) + '\n');
    if (progress) progress.write(progressBar(done, paths.length, started));
  }
  process.removeListener('SIGINT', onInterrupt);
  if (progress) progress.write('\r\x1b[K');
  // After an interruption too: the collisions among the images that were scanned.
  const groups = [...identities.groups()];
  // Names as shown: a URL without its query (a SAS token or presigned signature).
  const shownPaths = paths.map(displayPath);
  const copies = await collisionCopies(groups, fixPlaces, paths);
  for (const { image, path, findings } of collisionFindings(groups, (i) => shownPaths[i]!, (i) => (copies.has(i) ? 'copy' : 'in-place'))) {
    if (options.json) process.stdout.write(JSON.stringify({ late: 'identity-collisions', source: { path }, findings }) + '\n');
    if (clean[image]) {
      counts.ok--;
      counts.warnings++;
      clean[image] = 0;
    }
    for (const f of findings) codes.set(f.code, (codes.get(f.code) ?? 0) + 1);
  }
  if (groups.length && !options.json) process.stdout.write(collisionSection(groups, shownPaths) + '\n');
  const slice = shard && shard.count > 1 ? ` (shard ${shard.index}/${shard.count} of ${expanded.files.length})` : '';
  process.stderr.write(summary(counts, codes, done, Date.now() - started, parts, skipped, collisionTally(groups), slice) + '\n');
  if (interrupted) {
    process.stderr.write(`interrupted: ${done} of ${paths.length} images scanned\n`);
    return EXIT.INTERRUPTED;
  }
  // A file a walk found that is no disk (a README beside the images) is listed, not a failure;
  // one named outright is, like an unreadable image.
  return counts.unreadable || namedNotDisk ? 2 : counts.errors || (failOn === 'warning' && counts.warnings) ? 1 : 0;
}

const FIX_PLACES: readonly FixPlace[] = ['in-place', 'copy', 'in-place-unless-parent'];

/**
 * The images of collision groups whose fix lines must write a copy: what check/fix-target.ts
 * decided while each was open, and, for a VHD/VHDX, whether differencing disks beside it name it
 * their parent (a directory search, so made only for images that get a fix line).
 */
async function collisionCopies(groups: readonly CollisionGroup[], places: Uint8Array, paths: readonly string[]): Promise<Set<number>> {
  const copies = new Set<number>();
  const searched = new Set<number>(); // an image in several groups (disk and partition GUIDs) is searched once
  for (const group of groups) {
    for (const { image } of group.members.slice(1)) {
      const place = FIX_PLACES[places[image]!];
      if (place === 'copy') copies.add(image);
      else if (place === 'in-place-unless-parent' && !searched.has(image)) {
        searched.add(image);
        if ((await differencingChildren(paths[image]!)).length) copies.add(image);
      }
    }
  }
  return copies;
}

function parseJobs(option: string, text: string | undefined, fallback: number): number {
  const n = text === undefined ? fallback : Number(text);
  if (!Number.isInteger(n) || n < 1 || n > 256) throw new UsageError(`${option} must be a whole number from 1 to 256 (got ${text})`);
  return n;
}

function classify(result: ScanResult): Outcome {
  if (!('report' in result)) return result.error.code === 'ENOTDISK' ? 'not-disk' : 'unreadable';
  const worst = Math.min(...result.report.findings.map((f) => SEVERITY_RANK[f.severity]), 9);
  if (worst === SEVERITY_RANK.error) return 'errors';
  return worst === SEVERITY_RANK.warning ? 'warnings' : 'ok';
}

function line(result: ScanResult): string {
  if (!('report' in result)) return `${displayPath(result.path)}: ${result.error.code === 'ENOTDISK' ? 'not a disk image' : 'unreadable'}: ${redactUrlsIn(result.error.message)}`;
  const codes = [...new Set(result.report.findings.filter((f) => f.severity !== 'info').map((f) => f.code))];
  return `${displayPath(result.path)}: ${verdict(result.report)}${codes.length ? ` [${codes.join(', ')}]` : ''}`;
}

function progressBar(done: number, total: number, started: number): string {
  const width = 30;
  const filled = Math.round((done / total) * width);
  const rate = done / Math.max(0.001, (Date.now() - started) / 1000);
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total} images, ${rate.toFixed(0)}/s`;
}

function summary(counts: Record<Outcome, number>, codes: Map<string, number>, total: number, ms: number, parts: readonly ImagePart[], skipped: readonly SkippedEntry[], collisions: CollisionTally, slice: string): string {
  const paint = colorizer(process.stderr);
  const lines = [
    paint('bold', `Scanned ${total} image${total === 1 ? '' : 's'}${slice} in ${(ms / 1000).toFixed(2)} s`),
    ...table([
      ['ok', String(counts.ok)],
      ['with warnings', String(counts.warnings)],
      ['with errors', String(counts.errors)],
      ['unreadable', String(counts.unreadable)],
      ...(counts['not-disk'] ? [['not disk images', String(counts['not-disk'])]] : []),
    ], 'lr').map((l) => '  ' + l),
  ];
  if (collisions.length) {
    lines.push('Identities shared across images:');
    lines.push(...table(collisions.map((c) => [String(c.groups), `${c.what}${c.groups === 1 ? '' : 's'} shared (${c.images} image${c.images === 1 ? '' : 's'})`]), 'r').map((l) => '  ' + l));
  }
  const common = [...codes].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).slice(0, 10);
  if (common.length) {
    lines.push('Most common findings:');
    lines.push(...table(common.map(([code, n]) => [String(n), code]), 'r').map((l) => '  ' + l));
  }
  if (parts.length) {
    lines.push(`Left out ${parts.length} file${parts.length === 1 ? '' : 's'} that belong to other images (name one to scan it anyway):`);
    for (const part of parts.slice(0, 5)) lines.push(`  ${part.path}: ${part.partOf}`);
    if (parts.length > 5) lines.push(`  … and ${parts.length - 5} more`);
  }
  if (skipped.length) {
    lines.push(`Skipped ${skipped.length} director${skipped.length === 1 ? 'y entry' : 'y entries'} that are not files:`);
    for (const entry of skipped.slice(0, 10)) lines.push(`  ${entry.path}: ${entry.why}`);
    if (skipped.length > 10) lines.push(`  … and ${skipped.length - 10} more`);
  }
  return lines.join('\n');
}
