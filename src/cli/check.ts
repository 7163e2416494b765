import { checkDisk } from '../api.js';
import { findingsExitCode } from '../check/check.js';
import { CLOUD_TARGETS, PROFILES, type CloudTarget, type Profile } from '../check/finding.js';
import { UsageError, parseSectorSize } from './errors.js';
import { cliOpenOptions } from './progress.js';
import { printLine } from './print.js';
import { renderCheck } from './render-check.js';

export interface CheckCliOptions {
  json?: boolean;
  profile?: string;
  sectorSize?: string;
  failOn?: string;
  parent?: string;
  target?: string;
}

export function parseProfile(value: string | undefined): Profile {
  const profile = (value ?? 'auto') as Profile;
  if (!PROFILES.includes(profile)) throw new UsageError(`--profile must be one of ${PROFILES.join(', ')} (got ${value})`);
  return profile;
}

/** `--target azure|aws`, or none. */
export function parseTarget(value: string | undefined): CloudTarget | undefined {
  if (value === undefined) return undefined;
  if (!CLOUD_TARGETS.includes(value as CloudTarget)) throw new UsageError(`--target must be one of ${CLOUD_TARGETS.join(', ')} (got ${value})`);
  return value as CloudTarget;
}

export function parseFailOn(value: string | undefined): 'error' | 'warning' {
  if (value === undefined || value === 'error' || value === 'warning') return value ?? 'error';
  throw new UsageError(`--fail-on must be error or warning (got ${value})`);
}

/** `gptdoctor check`: 0 clean, 1 findings at or above --fail-on, 2 could not run. */
export async function runCheck(disk: string, options: CheckCliOptions): Promise<number> {
  const profile = parseProfile(options.profile);
  const failOn = parseFailOn(options.failOn);
  const sectorSize = parseSectorSize(options.sectorSize);
  const target = parseTarget(options.target);
  const report = await checkDisk(disk, { profile, ...(target ? { target } : {}), ...(sectorSize !== undefined ? { sectorSize } : {}), ...cliOpenOptions(options.parent) });
  printLine(options.json ? JSON.stringify(report, null, 2) : renderCheck(report));
  return findingsExitCode(report.findings, failOn);
}
