// The bucket bounds a histogram searches on every record, one array per bucket list.

/** The padded bounds of each bucket list, by the list's numbers. */
const boundsByList = new Map<string, Float64Array>();

/**
 * The bounds of `buckets` as searched on every record: padded with +Infinity to a power of two (at least one more
 * than the bounds) for a search without data-dependent branches, in a Float64Array (V8 on Node 20 reads frozen arrays
 * 5x slower). Shared by every family with the same list (the six HTTP histograms use B2): a request that records into
 * several of them reads one array, which stays in the CPU's cache, instead of one each. Never written after it is
 * made; bounded by the distinct bucket lists of the catalog and of custom definitions.
 */
export function searchBounds(buckets: readonly number[]): Float64Array {
  const key = buckets.join(',');
  let bounds = boundsByList.get(key);
  if (bounds === undefined) {
    let size = 1;
    while (size < buckets.length + 1) size *= 2;
    bounds = new Float64Array(size).fill(Infinity);
    bounds.set(buckets);
    boundsByList.set(key, bounds);
  }
  return bounds;
}
