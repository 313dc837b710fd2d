import { expect } from 'chai';
import { context, propagation, trace } from '@opentelemetry/api';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { startTelemetry } from '@tuist-telemetry/core';
import { openMetricsProblems } from '../helpers/index.js';

const GOOD = [
  '# HELP c A counter.',
  '# TYPE c counter',
  'c_total{a="x \\"q\\" \\\\ \\n"} 1 # {trace_id="0af7651916cd43dd8448eb211c80319c"} 1 1700000000.123',
  '# HELP h A histogram.',
  '# TYPE h histogram',
  'h_bucket{le="1"} 1 # {trace_id="0af7651916cd43dd8448eb211c80319c",span_id="b7ad6b7169203331"} 0.5 1700000000.123',
  'h_bucket{le="+Inf"} 2',
  'h_sum 3.5',
  'h_count 2',
  '# HELP u Unknown (no TYPE).',
  'u 5',
  '# EOF',
  '',
].join('\n');

describe('test helper: the strict OpenMetrics checker', () => {
  it('accepts a valid exposition', () => {
    expect(openMetricsProblems(GOOD)).to.deep.equal([]);
  });

  it('rejects what OpenMetrics forbids', () => {
    const cases: [string, string, RegExp][] = [
      ['no EOF', GOOD.replace('# EOF\n', ''), /# EOF/],
      ['text after EOF', GOOD + 'u2 1\n', /EOF/],
      ['empty line', GOOD.replace('h_sum 3.5\n', 'h_sum 3.5\n\n'), /empty line/],
      ['interleaved families', GOOD.replace('u 5\n', 'u 5\nc_total{a="y"} 2\n'), /interleaved/],
      ['buckets not cumulative', GOOD.replace('h_bucket{le="+Inf"} 2', 'h_bucket{le="+Inf"} 0'), /not cumulative/],
      ['no +Inf bucket', GOOD.replace('h_bucket{le="+Inf"} 2', 'h_bucket{le="2"} 2'), /\+Inf/],
      ['+Inf differs from _count', GOOD.replace('h_count 2', 'h_count 3'), /differs from _count/],
      ['exemplar on a gauge-like sample', GOOD.replace('u 5', 'u 5 # {trace_id="a"} 1'), /exemplar on u/],
      [
        'exemplar labels over 128 characters',
        GOOD.replace('trace_id="0af7651916cd43dd8448eb211c80319c"}', `trace_id="${'a'.repeat(130)}"}`),
        /128/,
      ],
      ['invalid escape', GOOD.replace('\\\\ \\n', '\\t'), /invalid escape/],
      ['duplicate series', GOOD.replace('h_sum 3.5', 'h_sum 3.5\nh_sum 3.5'), /duplicate series/],
      ['bad value', GOOD.replace('h_sum 3.5', 'h_sum 3,5'), /invalid value/],
      ['bad exemplar timestamp', GOOD.replace('0.5 1700000000.123', '0.5 soon'), /exemplar timestamp/],
      ['TYPE after samples', GOOD.replace('u 5\n', 'u 5\n# TYPE u gauge\n'), /after its samples/],
      ["sample of another type's suffix", GOOD.replace('c_total{a=', 'c{a='), /appears twice/],
    ];
    for (const [name, body, problem] of cases) {
      const problems = openMetricsProblems(body);
      expect(problems.join('\n'), name).to.match(problem);
    }
  });

  it('accepts a full scrape: runtime metrics, third-party instruments, scope labels, target_info, exemplars', async () => {
    const t = startTelemetry({
      prometheus: { port: 0, host: '127.0.0.1', withScopeLabels: true, withTargetInfo: true },
      runtimeMetrics: true,
      setGlobalMeterProvider: false,
    });
    try {
      await t.ready();
      const provider = new NodeTracerProvider();
      provider.register();
      trace.getTracer('test').startActiveSpan('run', (span) => {
        t.metrics.recordRun({ name: 'build "x"\n', isCi: true, status: 0, durationMs: 150 });
        span.end();
      });
      await provider.shutdown();
      trace.disable();
      context.disable();
      propagation.disable();
      const meter = t.meterProvider.getMeter('lib');
      meter
        .createCounter('lib.requests', { unit: 'By', description: 'Requests "served"\nand more' })
        .add(3, { route: '/a"b' });
      meter.createHistogram('lib.latency', { advice: { explicitBucketBoundaries: [1, 10] } }).record(5);
      meter.createUpDownCounter('lib.queue').add(-2);
      meter.createGauge('lib.temperature').record(21.5);
      const body = await t.renderPrometheus({ openMetrics: true });
      expect(body).to.contain(' # {trace_id="');
      expect(openMetricsProblems(body)).to.deep.equal([]);
    } finally {
      await t.shutdown();
    }
  });
});
