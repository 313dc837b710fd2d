import { expect } from 'chai';
import { textSamples } from './protobuf.js';

/** Histogram self-consistency over a sample map: per series, buckets non-decreasing in `le`, `+Inf` equal to `_count`. */
export function expectConsistentHistograms(samples: Map<string, number>, what: string): number {
  const buckets = new Map<string, [number, number][]>();
  for (const [k, v] of samples) {
    const m = /^(\w+)_bucket\{(.*)\}$/.exec(k);
    if (!m) continue;
    const labels = m[2]!.split(/,(?=[a-z_]+=)/);
    const le = labels.find((l) => l.startsWith('le='))!;
    const rest = labels.filter((l) => l !== le).join(',');
    const bound = le === 'le="+Inf"' ? Infinity : Number(le.slice(4, -1));
    const id = `${m[1]}{${rest}}`;
    buckets.set(id, [...(buckets.get(id) ?? []), [bound, v]]);
  }
  for (const [id, bs] of buckets) {
    bs.sort((a, b) => a[0] - b[0]);
    for (let i = 1; i < bs.length; i++)
      expect(bs[i]![1], `${what}: ${id} bucket le=${bs[i]![0]} below le=${bs[i - 1]![0]}`).to.be.at.least(
        bs[i - 1]![1],
      );
    expect(bs.at(-1)![0], `${what}: ${id} has a +Inf bucket`).to.equal(Infinity);
    const count = samples.get(id.replace(/^(\w+)\{/, '$1_count{'));
    expect(bs.at(-1)![1], `${what}: ${id} +Inf equals _count`).to.equal(count);
  }
  return buckets.size;
}

/** The samples of a text body in the key form protobufSamples uses (text 0.0.4 and OpenMetrics alike). */
export function samplesOfText(body: string): Map<string, number> {
  const lines = body
    .split('\n')
    .filter((l) => !l.startsWith('#'))
    .map((l) => l.replace(/ # \{.*$/, '')) // an OpenMetrics exemplar
    .map((l) => l.replace(/^(\S+(?:\{.*\})?) (\S+) \S+$/, '$1 $2')); // an OpenMetrics timestamp, none here
  return textSamples(lines.filter((l) => !/_created(\{| )/.test(l)).join('\n')).samples;
}
