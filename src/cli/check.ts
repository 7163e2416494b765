import { checkDisk } from '../api.js';
import { findingsExitCode } from '../check/check.js';
import { PROFILES, type Profile } from '../check/finding.js';
import { UsageError, parseSectorSize } from './errors.js';
import { cliOpenOptions } from './progress.js';
import { renderCheck } from './render-check.js';

export interface CheckCliOptions {
  json?: boolean;
  profile?: string;
  sectorSize?: string;
  failOn?: string;
  parent?: string;
}

export function parseProfile(value: string | undefined): Profile {
  const profile = (value ?? 'auto') as Profile;
  if (!PROFILES.includes(profile)) throw new UsageError(`--profile must be one of ${PROFILES.join(', ')} (got ${value})`);
  return profile;
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
  const report = await checkDisk(disk, { profile, ...(sectorSize !== undefined ? { sectorSize } : {}), ...cliOpenOptions(options.parent) });
  process.stdout.write(options.json ? JSON.stringify(report, null, 2) + '\n' : renderCheck(report) + '\n');
  return findingsExitCode(report.findings, failOn);
}
