import { expect } from 'chai';
import { diag, DiagLogLevel, type DiagLogger } from '@opentelemetry/api';
import { parseExposition, samples, scrape } from '@tuist-telemetry/testing';
import { startTelemetry, type Telemetry } from '@tuist-telemetry/core';
import { expectPromtoolParses, startReady } from '../helpers/index.js';

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
        const find = (labels: Record<string, string>) =>
          c.filter((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v));
        // {'': …, 'a.b': 'dotted', a_b: 'plain'}: the empty key is dropped, a_b keeps its name, a.b is renamed.
        expect(find({ a_b: 'plain', a_b_2: 'dotted' }).map((s) => s.value)).to.deep.equal([1]);
        expect(find({ a_b_2: 'only-dotted' }).map((s) => s.value)).to.deep.equal([2]);
        expect(
          find({ a_b: 'only-dotted' })
            .filter((s) => !('a_b_2' in s.labels))
            .map((s) => s.value),
        ).to.deep.equal([3]);
        expect(c.some((s) => Object.values(s.labels).includes('empty-key'))).to.equal(false);
        const evil = find({ _name_: 'evil', _1st: 'digit', x_y: 'dash' });
        expect(evil).to.have.length(1);
        expect(evil[0]!.labels[withScopeLabels ? 'exported_otel_scope_name' : 'otel_scope_name']).to.equal('mine');
        // {n: 1} and {n: '1'} are one Prometheus series: the first is kept, never written twice.
        expect(find({ n: '1' }).map((s) => s.value)).to.deep.equal([5]);
        expect(find({ bad_: 'v\uFFFD' }).map((s) => s.value)).to.deep.equal([7]);
        const buckets = samples(exp, 'weird_duration_bucket');
        // `le` becomes exported_le, which the second data point already uses as a valid name of its own: exported_le_2.
        expect(
          buckets.filter((s) => s.labels.exported_le_2 === 'mine').map((s) => [s.labels.le, s.value]),
        ).to.deep.equal([
          ['1', 0],
          ['10', 1],
          ['+Inf', 1],
        ]);
        expect(
          buckets
            .filter((s) => s.labels.exported_le_2 === 'other')
            .map((s) => [s.labels.exported_le, s.labels.le, s.value]),
        ).to.deep.equal([
          ['taken', '1', 0],
          ['taken', '10', 0],
          ['taken', '+Inf', 1],
        ]);
        expect(samples(exp, 'weird_gauge')).to.have.length(1);
        expect(samples(exp, 'weird_gauge')[0]!.labels).to.deep.equal(
          withScopeLabels ? { otel_scope_name: 'third-party' } : {},
        );
        expect(
          warnings.some((w) => w.includes('metric "weird.requests": attribute "a.b" is exported as label "a_b_2"')),
        ).to.equal(true);
        expect(
          warnings.some((w) =>
            w.includes('metric "weird.duration": attribute "le" is exported as label "exported_le_2"'),
          ),
        ).to.equal(true);
        expect(
          warnings.some((w) => w.includes('metric "weird.requests": two data points have the same labels')),
        ).to.equal(true);
      });
    });
  }
});

describe('core: attribute keys that sanitise to one label name, and keys with "__" (issue 26)', () => {
  const warnings: string[] = [];
  let t: Telemetry;
  before(async () => {
    diag.setLogger(
      {
        error: () => {},
        warn: (...a: unknown[]) => warnings.push(a.map(String).join(' ')),
        info: () => {},
        debug: () => {},
        verbose: () => {},
      },
      { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true },
    );
    t = await startReady();
    const c = t.meterProvider.getMeter('keys').createCounter('keys.requests');
    // Two invalid keys that both sanitise to x_y: the first in sort order ('x-y') takes x_y, the other x_y_2.
    c.add(1, { 'x.y': 'dot', 'x-y': 'dash' });
    // `a__b` is a valid name but both serializers collapse `__`: next to a valid a_b it must not become a_b too.
    c.add(2, { a__b: 'double', a_b: 'single' });
    // Runs of `_` made by sanitising collapse as well: `p.__q` is p_q, taken by p_q.
    c.add(3, { 'p.__q': 'odd', p_q: 'plain' });
    // Names starting with `__` are reserved in Prometheus: served as `_…`.
    c.add(4, { __private: 'p', ___triple: 't', __: 'u' });
  });
  after(async () => {
    await t.shutdown();
    diag.disable();
  });

  it('serves each attribute under its own valid, unreserved label name, with its own value', async function () {
    const text = await body(t.url!);
    expectPromtoolParses(this, text);
    const got = samples(parseExposition(text), 'keys_requests_total').map((s) => [s.value, s.labels]);
    expect(got.sort((a, b) => (a[0] as number) - (b[0] as number))).to.deep.equal([
      [1, { x_y: 'dash', x_y_2: 'dot' }],
      [2, { a_b: 'single', a_b_2: 'double' }],
      [3, { p_q: 'plain', p_q_2: 'odd' }],
      [4, { _private: 'p', _triple: 't', _: 'u' }],
    ]);
    // One warning per metric and kind: the first rename in sort order.
    const renames = warnings.filter((w) => w.includes('metric "keys.requests": attribute'));
    expect(renames).to.have.length(1);
    expect(renames[0]).to.include('metric "keys.requests": attribute "a__b" is exported as label "a_b_2"');
  });
});
