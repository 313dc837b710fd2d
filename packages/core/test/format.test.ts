import { expect } from 'chai';
import { escapeHelp, escapeLabelValue } from '@tuist-telemetry/core';
import { familyHeader, formatValue, labelText } from '../src/prometheus/format.js';
import { stockName } from '../src/prometheus/third-party.js';
import { AggregationTemporality, DataPointType, type MetricData } from '@opentelemetry/sdk-metrics';
import { ValueType } from '@opentelemetry/api';

// Survivors of `npm run mutate` in prometheus/format.ts (issue 17 item 1): each expectation is a line a scraper
// reads, and each wrong spelling below would make a scrape invalid or change a series.

describe('prometheus format: escaping, numbers, label text', () => {
  it('escapeHelp escapes backslash and line feed, and nothing else', () => {
    expect(escapeHelp('plain text')).to.equal('plain text');
    expect(escapeHelp('a\\b')).to.equal('a\\\\b');
    expect(escapeHelp('line one\nline two')).to.equal('line one\\nline two');
    expect(escapeHelp('C:\\dir\nnext\\n')).to.equal('C:\\\\dir\\nnext\\\\n');
    // HELP keeps double quotes as they are (only label values escape them).
    expect(escapeHelp('say "hi"')).to.equal('say "hi"');
  });

  it('escapeLabelValue escapes backslash, double quote and line feed, also when the value is only those', () => {
    expect(escapeLabelValue('GET /a-b_c.d')).to.equal('GET /a-b_c.d');
    expect(escapeLabelValue('')).to.equal('');
    expect(escapeLabelValue('"')).to.equal('\\"');
    expect(escapeLabelValue('\\')).to.equal('\\\\');
    expect(escapeLabelValue('\n')).to.equal('\\n');
    expect(escapeLabelValue('a"b\\c\nd')).to.equal('a\\"b\\\\c\\nd');
    // The backslash is escaped first: an escaped quote must not be escaped again.
    expect(escapeLabelValue('\\"')).to.equal('\\\\\\"');
  });

  it('formatValue spells NaN, +Inf, -Inf, integers, decimals and exponents as the exposition format does', () => {
    expect(formatValue(NaN)).to.equal('NaN');
    expect(formatValue(Infinity)).to.equal('+Inf');
    expect(formatValue(-Infinity)).to.equal('-Inf');
    expect(formatValue(0)).to.equal('0');
    expect(formatValue(42)).to.equal('42');
    expect(formatValue(-7)).to.equal('-7');
    expect(formatValue(0.005)).to.equal('0.005');
    expect(formatValue(-2.5)).to.equal('-2.5');
    expect(formatValue(1e21)).to.equal('1e+21');
    expect(formatValue(1.5e-7)).to.equal('1.5e-7');
    expect(formatValue(Number.MAX_VALUE)).to.equal('1.7976931348623157e+308');
  });

  it('labelText writes name="value" pairs separated by commas, escaped, skipping empty values', () => {
    expect(labelText([], [])).to.equal('');
    expect(labelText(['a'], ['x'])).to.equal('a="x"');
    expect(labelText(['a', 'b'], ['x', 'y'])).to.equal('a="x",b="y"');
    expect(labelText(['a', 'b', 'c'], ['', 'y', ''])).to.equal('b="y"');
    expect(labelText(['a', 'b', 'c'], ['x', '', 'z'])).to.equal('a="x",c="z"');
    expect(labelText(['a', 'b'], ['', ''])).to.equal('');
    expect(labelText(['a', 'b'], ['q"\n', 'back\\slash'])).to.equal('a="q\\"\\n",b="back\\\\slash"');
  });

  it('familyHeader escapes HELP, and follows text 0.0.4 and OpenMetrics for counters', () => {
    const help = 'first\nsecond \\ third';
    expect(familyHeader('x_seconds', 'histogram', help, 'text')).to.equal('# HELP x_seconds first\\nsecond \\\\ third\n# TYPE x_seconds histogram\n');
    expect(familyHeader('x_total', 'counter', 'd', 'text')).to.equal('# HELP x_total d\n# TYPE x_total counter\n');
    expect(familyHeader('x_total', 'counter', 'd\n', 'openmetrics')).to.equal('# HELP x d\\n\n# TYPE x counter\n');
    expect(familyHeader('x_bytes', 'counter', 'd', 'openmetrics')).to.equal('# HELP x_bytes d\n');
    expect(familyHeader('g', 'gauge', 'd', 'openmetrics')).to.equal('# HELP g d\n# TYPE g gauge\n');
    // Every header line is one line: no raw line feed survives inside HELP.
    for (const line of familyHeader('x', 'gauge', 'a\nb\r\nc', 'text').trimEnd().split('\n')) expect(line).to.match(/^# (HELP|TYPE) x /);
  });
});

function metric(name: string, dataPointType: DataPointType, isMonotonic = false): MetricData {
  const descriptor = { name, description: '', unit: '', valueType: ValueType.DOUBLE, type: 'COUNTER' as never };
  if (dataPointType === DataPointType.SUM) return { descriptor, dataPointType, isMonotonic, aggregationTemporality: AggregationTemporality.CUMULATIVE, dataPoints: [] } as MetricData;
  return { descriptor, dataPointType, aggregationTemporality: AggregationTemporality.CUMULATIVE, dataPoints: [] } as unknown as MetricData;
}

describe('prometheus format: third-party metric names (stockName)', () => {
  it('replaces invalid characters, collapses runs of underscores, prefixes a leading digit', () => {
    expect(stockName(metric('http.server.duration', DataPointType.HISTOGRAM))).to.equal('http_server_duration');
    expect(stockName(metric('a..b__c___d', DataPointType.GAUGE))).to.equal('a_b_c_d');
    expect(stockName(metric('9lives', DataPointType.GAUGE))).to.equal('_9lives');
    // Only a leading digit gets the prefix.
    expect(stockName(metric('v2.requests', DataPointType.GAUGE))).to.equal('v2_requests');
  });

  it('monotonic sums end in _total once; other sums and gauges keep their name', () => {
    expect(stockName(metric('jobs.done', DataPointType.SUM, true))).to.equal('jobs_done_total');
    expect(stockName(metric('jobs_total', DataPointType.SUM, true))).to.equal('jobs_total');
    expect(stockName(metric('queue.depth', DataPointType.SUM, false))).to.equal('queue_depth');
    expect(stockName(metric('temp', DataPointType.GAUGE))).to.equal('temp');
  });
});
