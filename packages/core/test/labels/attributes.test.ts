import { expect } from 'chai';
import type { Attributes } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { DataPointType, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { fixResourceMetrics, type FixOptions } from '../../src/labels/attributes.js';
import { MAX_LABEL_VALUE_LENGTH } from '../../src/labels/values.js';

/**
 * fixResourceMetrics on hand-made collections (issue 26: survivors of the labels mutation shard): what passes through
 * untouched, what an escaping scheme does to keys, empty keys and values, and series that become one.
 */

function collection(points: Attributes[], resource: Attributes = { service: 'x' }): ResourceMetrics {
  return {
    resource: resourceFromAttributes(resource),
    scopeMetrics: [
      {
        scope: { name: 'lib' },
        metrics: [
          {
            descriptor: { name: 'app_requests', type: 'COUNTER', description: '', unit: '', valueType: 1 },
            aggregationTemporality: 1,
            dataPointType: DataPointType.SUM,
            isMonotonic: true,
            dataPoints: points.map((attributes) => ({ attributes, startTime: [0, 0], endTime: [0, 0], value: 1 })),
          },
        ],
      },
    ],
  } as unknown as ResourceMetrics;
}

const labelsOf = (rm: ResourceMetrics) => rm.scopeMetrics[0]!.metrics[0]!.dataPoints.map((d) => d.attributes);

function reported(): { opts: FixOptions; seen: string[] } {
  const seen: string[] = [];
  return { opts: { report: (metric, kind, detail) => seen.push(`${metric} ${kind}: ${detail}`) }, seen };
}

describe('core: third-party attributes, fixResourceMetrics edges (issue 26)', () => {
  it('a collection whose keys each scheme keeps as they are is passed through untouched', () => {
    const plain = collection([{ route: '/a', code: '200' }]);
    for (const escaping of [undefined, 'underscores', 'dots', 'values', 'allow-utf-8'] as const)
      expect(fixResourceMetrics(plain, { escaping }), String(escaping)).to.equal(plain);
    const dotted = collection([{ 'http.route': '/a' }]);
    expect(fixResourceMetrics(dotted, { escaping: 'allow-utf-8' })).to.equal(dotted);
    expect(labelsOf(fixResourceMetrics(dotted, { escaping: 'underscores' }))).to.deep.equal([{ http_route: '/a' }]);
  });

  it('values that are not non-empty well-formed strings of at most the limit make the metric copied and fixed', () => {
    const max = 'v'.repeat(MAX_LABEL_VALUE_LENGTH);
    const cases: [Attributes, Attributes][] = [
      [{ a: '' }, {}],
      [{ a: 1 }, { a: '1' }],
      [{ a: `${max}vvv` }, { a: max }],
      [{ a: 'b\ud800' }, { a: 'b\ufffd' }],
    ];
    for (const escaping of [undefined, 'allow-utf-8'] as const) {
      for (const [attrs, want] of cases)
        expect(labelsOf(fixResourceMetrics(collection([attrs]), { escaping })), JSON.stringify(attrs)).to.deep.equal([
          want,
        ]);
      const atTheLimit = collection([{ a: max }]);
      expect(fixResourceMetrics(atTheLimit, { escaping })).to.equal(atTheLimit);
    }
  });

  it('allow-utf-8: an empty key is dropped (and reported), an ill-formed one made well-formed, `__` cut to `_`', () => {
    const { opts, seen } = reported();
    const rm = collection([{ '': 'e', 'k\ud800': 'x', __meta: 'm', ok: 'o' }]);
    expect(labelsOf(fixResourceMetrics(rm, { ...opts, escaping: 'allow-utf-8' }))).to.deep.equal([
      { ok: 'o', 'k\ufffd': 'x', _meta: 'm' },
    ]);
    expect(seen).to.include('app_requests dropped-key: an attribute with an empty key was dropped');
    // Without anyone to report to, the same collection is fixed the same way.
    expect(labelsOf(fixResourceMetrics(rm, { escaping: 'allow-utf-8' }))).to.deep.equal([
      { ok: 'o', 'k\ufffd': 'x', _meta: 'm' },
    ]);
  });

  it('underscores: a key is escaped as a label name (a colon too), `__` keys lose the extra underscores', () => {
    const rm = collection([{ 'a:b': '1', __x: '2' }]);
    expect(labelsOf(fixResourceMetrics(rm, { escaping: 'underscores' }))).to.deep.equal([{ a_b: '1', _x: '2' }]);
  });

  it('two data points that become one series keep the first, reported once with what happened', () => {
    const { opts, seen } = reported();
    const rm = collection([{ a: 1 }, { a: '1' }, { a: '2' }]);
    expect(labelsOf(fixResourceMetrics(rm, opts))).to.deep.equal([{ a: '1' }, { a: '2' }]);
    expect(seen).to.deep.equal([
      'app_requests duplicate-series: two data points have the same labels once written for Prometheus; the first was kept',
    ]);
    expect(labelsOf(fixResourceMetrics(rm))).to.deep.equal([{ a: '1' }, { a: '2' }]);
  });
});
