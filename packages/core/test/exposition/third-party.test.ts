import { expect } from 'chai';
import { diag } from '@opentelemetry/api';
import { captureDiag, parseExposition, samples, value } from '@tuist-telemetry/testing';
import type { Telemetry } from '@tuist-telemetry/core';
import { expectPromtoolParses, startReady } from '../helpers/index.js';

/** Instruments that are not in the catalog, served by the stock exporter-prometheus serializer. */
describe('core: third-party instruments on /metrics', () => {
  let t: Telemetry;
  beforeEach(async () => {
    t = await startReady();
  });
  afterEach(() => t.shutdown());

  it('HELP escapes backslashes and newlines: a multi-line description stays one valid HELP line', async function () {
    const description = 'first line\nsecond line with a back\\slash\n';
    t.meterProvider.getMeter('lib').createCounter('lib.escaped', { description }).add(1);
    const body = await t.renderPrometheus();
    const help = body.split('\n').filter((l) => l.startsWith('# HELP lib_escaped_total'));
    expect(help).to.deep.equal(['# HELP lib_escaped_total first line\\nsecond line with a back\\\\slash\\n']);
    const exp = parseExposition(body);
    expect(exp.get('lib_escaped_total')!.help).to.equal(description);
    expect(value(exp, 'lib_escaped_total')).to.equal(1);
    expectPromtoolParses(this, body);
  });

  it('histograms serve every bucket including +Inf, _sum and _count with the right values', async function () {
    const h = t.meterProvider
      .getMeter('lib')
      .createHistogram('lib.latency', { advice: { explicitBucketBoundaries: [1, 10, 100] } });
    for (const v of [0.5, 5, 5, 50, 500, 1000]) h.record(v, { route: '/a' });
    h.record(2, { route: '/b' });
    const body = await t.renderPrometheus();
    const exp = parseExposition(body);
    expect(exp.get('lib_latency')!.type).to.equal('histogram');
    const buckets = samples(exp, 'lib_latency_bucket', { route: '/a' }).map((s) => [s.labels.le, s.value]);
    expect(buckets).to.deep.equal([
      ['1', 1],
      ['10', 3],
      ['100', 4],
      ['+Inf', 6],
    ]);
    expect(value(exp, 'lib_latency_sum', { route: '/a' })).to.equal(1560.5);
    expect(value(exp, 'lib_latency_count', { route: '/a' })).to.equal(6);
    expect(samples(exp, 'lib_latency_bucket', { route: '/b' }).map((s) => s.value)).to.deep.equal([0, 1, 1, 1]);
    expect(value(exp, 'lib_latency_count', { route: '/b' })).to.equal(1);
    expectPromtoolParses(this, body);
  });

  it('a third-party histogram whose _count would collide with a catalog counter is left out', async () => {
    // tuist_storage_get_object_size_count is a documented counter (no _total).
    t.meterProvider.getMeter('rogue').createHistogram('tuist_storage_get_object_size').record(3);
    t.meterProvider.getMeter('lib').createCounter('lib.kept').add(2);
    const logged = captureDiag(diag);
    const exp = parseExposition(await t.renderPrometheus().finally(() => logged.restore()));
    expect(logged.matching(/^warn: .*"tuist_storage_get_object_size"/), logged.lines.join('\n')).to.have.length(1);
    expect(exp.has('tuist_storage_get_object_size')).to.equal(false);
    expect(exp.get('tuist_storage_get_object_size_count')!.type).to.equal('counter');
    expect(value(exp, 'tuist_storage_get_object_size_count')).to.equal(0);
    expect(value(exp, 'lib_kept_total')).to.equal(2);
  });

  it('two third-party instruments with the same exposed name are served once', async () => {
    t.meterProvider.getMeter('a').createCounter('dup.requests').add(1);
    t.meterProvider.getMeter('b').createCounter('dup_requests').add(5);
    const logged = captureDiag(diag);
    const body = await t.renderPrometheus().finally(() => logged.restore());
    expect(logged.matching(/^warn: .*"dup_requests_total"/), logged.lines.join('\n')).to.have.length(1);
    expect(body.match(/^# TYPE dup_requests_total /gm)).to.have.length(1);
    expect(samples(parseExposition(body), 'dup_requests_total')).to.have.length(1);
  });

  it('an empty collection writes nothing of the stock serializer (no "no registered metrics" comment)', async () => {
    const body = await t.renderPrometheus();
    expect(body).to.not.contain('no registered metrics');
    expect(body).to.not.contain('target_info');
  });
});
