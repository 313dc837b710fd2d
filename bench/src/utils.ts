/** Pure helpers of the benchmark suite. */

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** A number with about three significant digits, thousands grouped (`1,234`, `12.3`, `0.456`). */
export function formatNumber(v: number): string {
  if (!Number.isFinite(v)) return '—';
  const abs = Math.abs(v);
  const digits = abs >= 100 ? 0 : abs >= 10 ? 1 : abs >= 1 ? 2 : 3;
  return v.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

export function formatRatio(v: number): string {
  return Number.isFinite(v) ? `${v.toFixed(v < 0.1 ? 3 : 2)}x` : '—';
}

/** Nanoseconds since an arbitrary origin, as a number (enough precision for benchmark spans). */
export function nowNs(): number {
  return Number(process.hrtime.bigint());
}

/** Cycles through `n` items with a mask: `n` must be a power of two. */
export function powerOfTwo(n: number): boolean {
  return n > 0 && (n & (n - 1)) === 0;
}
