/**
 * NTFS runlists ("mapping pairs"): each run is a header byte whose low nibble is the width of the
 * run length and whose high nibble is the width of a signed LCN offset from the previous run; an
 * offset width of 0 is a sparse run (a hole, read as zeros). Pure and bounded by the bytes given,
 * a run count cap and the volume's cluster count.
 */

export interface Run {
  vcn: number;
  /** First cluster, or null for a sparse run. */
  lcn: number | null;
  length: number;
}

export type RunlistResult = { ok: true; runs: Run[]; nextVcn: number } | { ok: false; reason: string };

/** Little-endian integer of `width` bytes (≤ 8) at `at`, signed or not; undefined beyond 2^53. */
function varInt(b: Uint8Array, at: number, width: number, signed: boolean): number | undefined {
  let v = 0;
  for (let i = width - 1; i >= 0; i--) v = v * 256 + b[at + i]!;
  if (signed && width > 0 && b[at + width - 1]! & 0x80) v -= 2 ** (8 * width);
  return Number.isSafeInteger(v) ? v : undefined;
}

/**
 * Decodes the runs of one attribute extent, starting at `startVcn`. Every run must lie inside the
 * volume (`totalClusters`), and at most `maxRuns` are accepted, so neither a hostile length nor a
 * hostile offset makes anyone read past the volume or allocate without bound.
 */
export function decodeRunlist(b: Uint8Array, startVcn: number, totalClusters: number, maxRuns: number): RunlistResult {
  const runs: Run[] = [];
  let vcn = startVcn;
  let lcn = 0;
  for (let at = 0; ; ) {
    if (at >= b.length) return { ok: false, reason: 'the runlist has no terminating zero byte' };
    const header = b[at]!;
    if (header === 0) break;
    const lengthWidth = header & 0x0f;
    const offsetWidth = header >> 4;
    if (lengthWidth === 0 || lengthWidth > 8 || offsetWidth > 8) return { ok: false, reason: `run ${runs.length} has a malformed header byte 0x${header.toString(16)}` };
    if (at + 1 + lengthWidth + offsetWidth > b.length) return { ok: false, reason: `run ${runs.length} runs past the end of its attribute` };
    if (runs.length >= maxRuns) return { ok: false, reason: `more than ${maxRuns} runs` };
    const length = varInt(b, at + 1, lengthWidth, true);
    if (length === undefined || length <= 0) return { ok: false, reason: `run ${runs.length} has length ${length ?? 'beyond 2^53'}` };
    if (offsetWidth === 0) {
      runs.push({ vcn, lcn: null, length });
    } else {
      const delta = varInt(b, at + 1 + lengthWidth, offsetWidth, true);
      if (delta === undefined) return { ok: false, reason: `run ${runs.length} has an LCN offset beyond 2^53` };
      lcn += delta;
      if (lcn < 0 || lcn + length > totalClusters) return { ok: false, reason: `run ${runs.length} (clusters ${lcn}..${lcn + length - 1}) lies outside the volume's ${totalClusters} clusters` };
      runs.push({ vcn, lcn, length });
    }
    vcn += length;
    if (!Number.isSafeInteger(vcn)) return { ok: false, reason: 'the runs add up to more than 2^53 clusters' };
    at += 1 + lengthWidth + offsetWidth;
  }
  return { ok: true, runs, nextVcn: vcn };
}

/**
 * The first cluster two runs both map, if any. A stream that holds the same cluster twice (a run
 * whose offset points back into an earlier one) is a corrupt map, whatever the volume says.
 */
export function overlappingCluster(runs: readonly Run[]): number | undefined {
  const mapped = runs.filter((r) => r.lcn !== null).sort((a, b) => a.lcn! - b.lcn!);
  for (let i = 1; i < mapped.length; i++) {
    const previous = mapped[i - 1]!;
    if (mapped[i]!.lcn! < previous.lcn! + previous.length) return mapped[i]!.lcn!;
  }
  return undefined;
}
