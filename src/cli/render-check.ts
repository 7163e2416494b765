import { partitionCount, type CheckReport } from '../report/check-report.js';
import type { Finding, Severity } from '../check/finding.js';
import { colorizer, formatBytes } from './format.js';

const HEADINGS: Record<Severity, string> = { error: 'Errors', warning: 'Warnings', info: 'Notes' };
const COLORS = { error: 'red', warning: 'yellow', info: 'cyan' } as const;
const CLOUDS = { azure: { name: 'Azure', importer: 'VHD upload' }, aws: { name: 'AWS', importer: 'VM Import/Export' } } as const;

/** Human view of `check`: findings grouped by severity, each with its fix, then a one-line verdict. */
export function renderCheck(r: CheckReport, stream: NodeJS.WriteStream = process.stdout): string {
  const paint = colorizer(stream);
  const s = r.source;
  const count = partitionCount(r);
  // An MBR disk has no GPT partitions; "0 partitions" would say it is empty.
  const table = r.findings.some((f) => f.code === 'mbr-disk') ? 'MBR-partitioned (no GPT)' : `${count} partition${count === 1 ? '' : 's'}`;
  const lines = [
    `${s.path}: ${formatBytes(s.size)}, ${s.sectorSize}-byte sectors, ${table}, rules: ${r.profileApplied}${r.profile === 'auto' ? ' (auto)' : ''}${r.target ? `, target: ${CLOUDS[r.target].name} (${CLOUDS[r.target].importer})` : ''}`,
  ];
  for (const severity of ['error', 'warning', 'info'] as const) {
    const group = r.findings.filter((f) => f.severity === severity);
    if (!group.length) continue;
    lines.push('', paint('bold', `${HEADINGS[severity]} (${group.length})`));
    for (const f of group) lines.push(...renderFinding(f, paint(COLORS[severity], f.code), paint));
  }
  lines.push('', verdict(r, paint));
  return lines.join('\n');
}

function renderFinding(f: Finding, code: string, paint: ReturnType<typeof colorizer>): string[] {
  const lines = f.reasons?.length ? reasonLines(f, code) : [`  ${code}: ${f.message}`];
  if (f.fix) lines.push(`    fix: ${paint('green', f.fix)}`);
  return lines;
}

/**
 * A finding with several reasons (mbr2gpt-blocked) reads better as a list: the message's words
 * before the first reason, one reason a line, then what follows the last one.
 */
function reasonLines(f: Finding, code: string): string[] {
  const reasons = f.reasons!;
  const from = f.message.indexOf(reasons[0]!);
  const last = reasons[reasons.length - 1]!;
  const to = f.message.lastIndexOf(last) + last.length;
  if (from < 0 || to < from) return [`  ${code}: ${f.message}`];
  const tail = f.message.slice(to).replace(/^\.\s*/, '');
  return [`  ${code}: ${f.message.slice(0, from).trimEnd()}`, ...reasons.map((r) => `    - ${r}`), ...(tail ? [`    ${tail}`] : [])];
}

export function verdict(r: CheckReport, paint: ReturnType<typeof colorizer> = (_c, t) => t): string {
  const count = (s: Severity): number => r.findings.filter((f) => f.severity === s).length;
  const errors = count('error');
  const warnings = count('warning');
  // A disk read at the wrong sector size needs the right --sector-size, not a repair.
  const errorCodes = r.findings.filter((f) => f.severity === 'error').map((f) => f.code);
  const why = errorCodes.every((c) => c === 'sector-size-mismatch')
    ? 'it was read with the wrong sector size.'
    : errorCodes.every((c) => c === 'mbr2gpt-blocked')
      ? 'mbr2gpt cannot convert this disk as it is.'
      : r.target && errorCodes.every((c) => c.startsWith(`${r.target}-`))
        ? `the image is not ready for ${CLOUDS[r.target].name} import.`
        : 'this disk needs repair.';
  if (errors) return paint('red', `✗ ${errors} error${errors > 1 ? 's' : ''}${warnings ? `, ${warnings} warning${warnings > 1 ? 's' : ''}` : ''}: ${why}`);
  if (warnings) return paint('yellow', `! no errors, ${warnings} warning${warnings > 1 ? 's' : ''}.`);
  return paint('green', '✓ no problems found.');
}
