import { expect } from 'chai';
import {
  AggregationType,
  DataPointType,
  MeterProvider,
  MetricReader,
  type HistogramMetricData,
} from '@opentelemetry/sdk-metrics';
import { catalogViews } from '@tuist-telemetry/core';
import { B1, catalog, findMetric } from '@tuist-telemetry/core/internal';

class TestReader extends MetricReader {
  protected override async onShutdown(): Promise<void> {}
  protected override async onForceFlush(): Promise<void> {}
}

async function collectOne(_provider: MeterProvider, reader: TestReader, name: string) {
  const { resourceMetrics } = await reader.collect();
  const m = resourceMetrics.scopeMetrics.flatMap((s) => s.metrics).find((x) => x.descriptor.name === name);
  expect(m, `metric ${name} collected`).to.not.equal(undefined);
  return m!;
}

describe('core: catalogViews() for the stock sdk-metrics', () => {
  it('makes one view per catalog metric, selecting it by its documented name', () => {
    const views = catalogViews();
    expect(views).to.have.length(catalog.length);
    expect(views.map((v) => v.instrumentName)).to.deep.equal(catalog.map((d) => d.name));
    const runs = views.find((v) => v.instrumentName === 'tuist_runs_duration_milliseconds')!;
    expect(runs.aggregation).to.deep.equal({
      type: AggregationType.EXPLICIT_BUCKET_HISTOGRAM,
      options: { boundaries: [...B1] },
    });
    expect(views.find((v) => v.instrumentName === 'tuist_runs_total')!.aggregation).to.equal(undefined);
  });

  it('gives a raw OTel histogram named like a catalog metric the B1 bounds and only the catalog labels', async () => {
    const reader = new TestReader();
    const provider = new MeterProvider({ readers: [reader], views: catalogViews() });
    try {
      const h = provider.getMeter('raw').createHistogram('tuist_runs_duration_milliseconds', { unit: 'ms' });
      h.record(150, { name: 'build', is_ci: 'true', status: '0', user_id: '42', 'http.route': '/x' });
      h.record(5000, { name: 'build', is_ci: 'true', status: '0', user_id: '43' });
      const m = (await collectOne(provider, reader, 'tuist_runs_duration_milliseconds')) as HistogramMetricData;
      expect(m.dataPointType).to.equal(DataPointType.HISTOGRAM);
      expect(m.dataPoints).to.have.length(1);
      const dp = m.dataPoints[0]!;
      expect(dp.attributes).to.deep.equal({ name: 'build', is_ci: 'true', status: '0' });
      expect(dp.value.buckets.boundaries).to.deep.equal([...B1]);
      expect(dp.value.count).to.equal(2);
      expect(dp.value.buckets.counts[1]).to.equal(1); // 150 is in (100, 200]
      expect(m.descriptor.description).to.equal(findMetric('tuist_runs_duration_milliseconds')!.description);
    } finally {
      await provider.shutdown();
    }
  });

  it('drops high-cardinality labels unless asked, and uses the server naming profile when given', async () => {
    const def = catalog.find((d) => d.serverName && d.labels.includes('object_key') && d.type === 'histogram')!;
    for (const [views, expected] of [
      [catalogViews('server'), {}],
      [catalogViews('server', { highCardinalityLabels: ['object_key'] }), { object_key: 'a/b' }],
    ] as const) {
      const reader = new TestReader();
      const provider = new MeterProvider({ readers: [reader], views: [...views] });
      try {
        provider.getMeter('raw').createHistogram(def.name).record(1, { object_key: 'a/b', other: 'x' });
        const m = (await collectOne(provider, reader, def.serverName!)) as HistogramMetricData;
        expect(m.dataPoints[0]!.attributes).to.deep.equal(expected);
      } finally {
        await provider.shutdown();
      }
    }
  });
});

describe("core: catalogViews' label bound, processor by processor (issue 26)", () => {
  type Processor = { process(a: Record<string, unknown>): Record<string, unknown> };
  const processorsOf = (views: ReturnType<typeof catalogViews>, name: string) =>
    (views.find((v) => v.instrumentName === name)!.attributesProcessors ?? []) as unknown as Processor[];

  it('past maxLabelValues a label value becomes __overflow__, reported; known, missing and other keys pass', () => {
    const def = catalog.find((d) => d.labels.length > 0 && d.name !== 'tuist_telemetry_label_overflow_total')!;
    const label = def.labels[0]!;
    const told: string[] = [];
    const views = catalogViews('docs', { maxLabelValues: 2, onOverflow: (m, l) => told.push(`${m} ${l}`) });
    const procs = processorsOf(views, def.name);
    expect(procs).to.have.length(2);
    const bound = procs[1]!;
    const a = { [label]: 'a', other: 'x' };
    expect(bound.process(a)).to.equal(a);
    expect(bound.process({ [label]: 'b' })[label]).to.equal('b');
    expect(bound.process({ [label]: 'a' })[label]).to.equal('a');
    const third = { [label]: 'c', other: 'x' };
    const out = bound.process(third);
    expect(out).to.deep.equal({ [label]: '__overflow__', other: 'x' });
    expect(third[label]).to.equal('c');
    expect(told).to.deep.equal([`${def.name} ${label}`]);
    for (const v of [undefined, null]) {
      const missing = { [label]: v };
      expect(bound.process(missing)).to.equal(missing);
    }
    expect(told).to.have.length(1);
    // Numbers are bounded by their text: 1 and '1' are one value.
    const numeric = catalogViews('docs', { maxLabelValues: 1 });
    const n = processorsOf(numeric, def.name)[1]!;
    n.process({ [label]: 1 });
    expect(n.process({ [label]: '1' })[label]).to.equal('1');
    expect(n.process({ [label]: 2 })[label]).to.equal('__overflow__');
  });

  it('high-cardinality labels are kept only when asked for, by name or all', () => {
    const name = 'tuist_storage_get_object_size_size_bytes';
    const kept = (views: ReturnType<typeof catalogViews>) =>
      'object_key' in processorsOf(views, name)[0]!.process({ object_key: 'k', bucket: 'b' });
    expect(kept(catalogViews())).to.equal(false);
    expect(kept(catalogViews('docs', { highCardinalityLabels: ['object_key'] }))).to.equal(true);
    expect(kept(catalogViews('docs', { highCardinalityLabels: 'all' }))).to.equal(true);
  });

  it("the overflow counter's own labels are not bounded, and the default bound is 1000 values", () => {
    const views = catalogViews();
    expect(processorsOf(views, 'tuist_telemetry_label_overflow_total')).to.have.length(1);
    const def = catalog.find((d) => d.labels.length > 0 && d.name !== 'tuist_telemetry_label_overflow_total')!;
    const bound = processorsOf(views, def.name)[1]!;
    const label = def.labels[0]!;
    for (let i = 0; i < 1000; i++) expect(bound.process({ [label]: `v${i}` })[label]).to.equal(`v${i}`);
    expect(bound.process({ [label]: 'one more' })[label]).to.equal('__overflow__');
  });

  it('a metric without labels gets no bound to run on each record, only the allow-list that drops stray keys', () => {
    const def = catalog.find((d) => d.labels.length === 0)!;
    expect(def, 'a catalog metric without labels').to.not.equal(undefined);
    const procs = processorsOf(catalogViews('docs', { maxLabelValues: 1 }), def.name);
    expect(procs).to.have.length(1);
    expect(procs[0]!.process({ stray: 'x' })).to.deep.equal({});
  });
});
