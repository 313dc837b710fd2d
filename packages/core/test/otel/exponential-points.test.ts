import { expect } from 'chai';
import { NativeBuckets } from '../../src/store/native-histogram.js';
import { exponentialValue, snapshot } from '../../src/otel/exponential-points.js';

/*
 * A series' native buckets as the OTLP ExponentialHistogram value (issue 26), in-process and by the OpenTelemetry
 * definition: at scale 0, bucket i holds (2^i, 2^(i+1)]. Over a real receiver: otlp-exponential.test.ts.
 */

const settings = { bucketFactor: 2, maxBuckets: 160, zeroThreshold: 0.001 };

describe('core: native buckets as an OTLP exponential histogram value (issue 26)', () => {
  it('cumulative: OpenTelemetry indices (one less than Prometheus), empty buckets trimmed at both ends, zeros apart', () => {
    const n = new NativeBuckets(settings, 0);
    for (const v of [1, 3, 3, 0, 0.0005]) n.observe(v);
    const value = exponentialValue(n, undefined, 5, 7.0005);
    expect(value).to.deep.equal({
      count: 5,
      sum: 7.0005,
      scale: 0,
      zeroCount: 2,
      // 1 is in (2^-1, 2^0]: bucket -1; 3 is in (2^1, 2^2]: bucket 1.
      positive: { offset: -1, bucketCounts: [1, 0, 2] },
      negative: { offset: 0, bucketCounts: [] },
    });
  });

  it('only zeros: no positive buckets at offset 0', () => {
    const n = new NativeBuckets(settings, 0);
    n.observe(0);
    expect(exponentialValue(n, undefined, 1, 0).positive).to.deep.equal({ offset: 0, bucketCounts: [] });
  });

  it('delta: what the buckets and the zero bucket gained since the snapshot, its empty buckets trimmed', () => {
    const n = new NativeBuckets(settings, 0);
    for (const v of [1, 3, 0]) n.observe(v);
    const last = snapshot(n);
    // The snapshot is a copy: later values do not change it.
    for (const v of [3, 6, 0, 0]) n.observe(v);
    expect(Array.from(last.counts).reduce((a, b) => a + b, 0)).to.equal(2);
    expect(last.zeroCount).to.equal(1);
    const value = exponentialValue(n, last, 4, 9);
    expect(value.zeroCount).to.equal(2);
    // 3 in bucket 1, 6 in (2^2, 2^3]: bucket 2; the 1 of before is gone, so the buckets start at 1.
    expect(value.positive).to.deep.equal({ offset: 1, bucketCounts: [1, 1] });
    expect(value.count).to.equal(4);
    expect(value.sum).to.equal(9);
    // Nothing new: no buckets.
    const none = exponentialValue(n, snapshot(n), 0, 0);
    expect(none.positive).to.deep.equal({ offset: 0, bucketCounts: [] });
    expect(none.zeroCount).to.equal(0);
  });
});
