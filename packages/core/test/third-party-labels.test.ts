import { expect } from 'chai';
import { diag, DiagLogLevel, type DiagLogger } from '@opentelemetry/api';
import { parseExposition, samples, scrape } from '@tuist-telemetry/testing';
import { startTelemetry, type Telemetry } from '@tuist-telemetry/core';
import { expectPromtoolParses } from './promtool.js';

async function body(url: string): Promise<string> {
  const res = await fetch(url);
  expect(res.status).to.equal(200);
  return res.text();
}

describe('core: third-party attributes are made valid Prometheus labels (issue 15 item 3)', () => {
  const warnings: string[] = [];
  before(() => {
    const capture: DiagLogger = {
      error: (...a: unknown[]) => warnings.push(a.map((x) => (typeof x === 'string' ? x : typeof x)).join(' ')),
      warn: (...a: unknown[]) => warnings.push(a.map((x) => (typeof x === 'string' ? x : typeof x)).join(' ')),
      info: () => {},
      debug: () => {},
      verbose: () => {},
    };
    diag.setLogger(capture, { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true });
  });
  after(() => diag.disable());

  for (const withScopeLabels of [false, true]) {
    describe(withScopeLabels ? 'with scope labels and target_info' : 'plain', () => {
      let t: Telemetry;
      before(async () => {
        t = startTelemetry({
          prometheus: { port: 0, host: '127.0.0.1', withScopeLabels, withTargetInfo: withScopeLabels },
          runtimeMetrics: false,
          setGlobalMeterProvider: false,
          serviceName: 'labels-test',
        });
        await t.ready();
        const meter = t.meterProvider.getMeter('third-party');
        const c = meter.createCounter('weird.requests');
        c.add(1, { '': 'empty-key', 'a.b': 'dotted', a_b: 'plain' });
        c.add(2, { 'a.b': 'only-dotted' });
        c.add(3, { a_b: 'only-dotted' });
        c.add(4, { __name__: 'evil', '1st': 'digit', 'x-y': 'dash', otel_scope_name: 'mine' });
        c.add(5, { n: 1 });
        c.add(6, { n: '1' });
        c.add(7, { 'bad\uD800': 'v\uDC00' });
        const h = meter.createHistogram('weird.duration', { advice: { explicitBucketBoundaries: [1, 10] } });
        h.record(5, { le: 'mine', 'a.b': 'x' });
        h.record(50, { le: 'other', exported_le: 'taken' });
        meter.createUpDownCounter('weird.gauge').add(1, { '': '' });
      });
      after(() => t.shutdown());

      it('the scrape parses (promtool and the strict parser): no empty, duplicate or reserved label names', async function () {
        const text = await body(t.url!);
        expectPromtoolParses(this, text);
        const exp = parseExposition(text);
        for (const fam of exp.values()) {
          for (const s of fam.samples) {
            for (const k of Object.keys(s.labels)) {
              expect(k, `${s.name} ${k}`).to.match(/^[a-zA-Z_][a-zA-Z0-9_]*$/);
              expect(k.startsWith('__'), `${s.name} ${k}`).to.equal(false);
            }
          }
          const ids = fam.samples.map((s) => s.name + JSON.stringify(Object.entries(s.labels).sort()));
          expect(new Set(ids).size, `duplicate series in ${fam.name}`).to.equal(ids.length);
        }
      });

      it('renames instead of merging: a.b next to a_b, le on a histogram; keeps the counts apart', async () => {
        const exp = await scrape(t.url!);
        const c = samples(exp, 'weird_requests_total');
        const find = (labels: Record<string, string>) => c.filter((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v));
        // {'': …, 'a.b': 'dotted', a_b: 'plain'}: the empty key is dropped, a_b keeps its name, a.b is renamed.
        expect(find({ a_b: 'plain', a_b_2: 'dotted' }).map((s) => s.value)).to.deep.equal([1]);
        expect(find({ a_b_2: 'only-dotted' }).map((s) => s.value)).to.deep.equal([2]);
        expect(find({ a_b: 'only-dotted' }).filter((s) => !('a_b_2' in s.labels)).map((s) => s.value)).to.deep.equal([3]);
        expect(c.some((s) => Object.values(s.labels).includes('empty-key'))).to.equal(false);
        const evil = find({ _name_: 'evil', _1st: 'digit', x_y: 'dash' });
        expect(evil).to.have.length(1);
        expect(evil[0]!.labels[withScopeLabels ? 'exported_otel_scope_name' : 'otel_scope_name']).to.equal('mine');
        // {n: 1} and {n: '1'} are one Prometheus series: the first is kept, never written twice.
        expect(find({ n: '1' }).map((s) => s.value)).to.deep.equal([5]);
        expect(find({ bad_: 'v\uFFFD' }).map((s) => s.value)).to.deep.equal([7]);
        const buckets = samples(exp, 'weird_duration_bucket');
        // `le` becomes exported_le, which the second data point already uses as a valid name of its own: exported_le_2.
        expect(buckets.filter((s) => s.labels.exported_le_2 === 'mine').map((s) => [s.labels.le, s.value])).to.deep.equal([['1', 0], ['10', 1], ['+Inf', 1]]);
        expect(buckets.filter((s) => s.labels.exported_le_2 === 'other').map((s) => [s.labels.exported_le, s.labels.le, s.value])).to.deep.equal([
          ['taken', '1', 0],
          ['taken', '10', 0],
          ['taken', '+Inf', 1],
        ]);
        expect(samples(exp, 'weird_gauge')).to.have.length(1);
        expect(samples(exp, 'weird_gauge')[0]!.labels).to.deep.equal(withScopeLabels ? { otel_scope_name: 'third-party' } : {});
        expect(warnings.some((w) => w.includes('metric "weird.requests": attribute "a.b" is exported as label "a_b_2"'))).to.equal(true);
        expect(warnings.some((w) => w.includes('metric "weird.duration": attribute "le" is exported as label "exported_le_2"'))).to.equal(true);
        expect(warnings.some((w) => w.includes('metric "weird.requests": two data points have the same labels'))).to.equal(true);
      });
    });
  }
});
