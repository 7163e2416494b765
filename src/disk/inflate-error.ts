/**
 * Why a compressed cluster or grain did not inflate, in words: zlib's own text for a broken
 * stream, or, when it would inflate past the one cluster or grain it may hold (Node stops it at
 * maxOutputLength with ERR_BUFFER_TOO_LARGE), that plain fact instead of Node's buffer message.
 */
export function inflateProblem(err: unknown, limit: number): string {
  const code = (err as NodeJS.ErrnoException)?.code;
  if (code === 'ERR_BUFFER_TOO_LARGE' || err instanceof RangeError) return `it inflates to more than the ${limit} bytes it may hold`;
  return (err as Error)?.message ?? String(err);
}
