import { expect } from 'chai';
import { escapeHelp, escapeLabelValue } from '@tuist-telemetry/core/internal';
import {
  familyHeader,
  formatValue,
  labelText,
  negotiateFormat,
  parseAccept,
  textToOpenMetrics,
} from '../src/prometheus/format.js';
import { acceptsGzip } from '../src/prometheus/endpoint.js';
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
    expect(familyHeader('x_seconds', 'histogram', help, 'text')).to.equal(
      '# HELP x_seconds first\\nsecond \\\\ third\n# TYPE x_seconds histogram\n',
    );
    expect(familyHeader('x_total', 'counter', 'd', 'text')).to.equal('# HELP x_total d\n# TYPE x_total counter\n');
    expect(familyHeader('x_total', 'counter', 'd\n', 'openmetrics')).to.equal('# HELP x d\\n\n# TYPE x counter\n');
    expect(familyHeader('x_bytes', 'counter', 'd', 'openmetrics')).to.equal('# HELP x_bytes d\n');
    expect(familyHeader('g', 'gauge', 'd', 'openmetrics')).to.equal('# HELP g d\n# TYPE g gauge\n');
    // Every header line is one line: no raw line feed survives inside HELP.
    for (const line of familyHeader('x', 'gauge', 'a\nb\r\nc', 'text').trimEnd().split('\n'))
      expect(line).to.match(/^# (HELP|TYPE) x /);
  });
});

describe('prometheus format: Accept negotiation and OpenMetrics rewriting of third-party text', () => {
  it('reads q values (after the "q="), spaces around ranges, the best of repeated ranges, and ties go to OpenMetrics', () => {
    expect(negotiateFormat('text/plain;q=0.5, application/openmetrics-text;q=0.9')).to.equal('openmetrics');
    expect(negotiateFormat('application/openmetrics-text;q=0.9,text/plain;q=0.5')).to.equal('openmetrics');
    expect(negotiateFormat('application/openmetrics-text;q=0.3,text/plain;q=0.5')).to.equal('text');
    // The best q of the ranges that match counts, not the last one.
    expect(
      negotiateFormat(
        'application/openmetrics-text;q=0.9, application/openmetrics-text;version=1.0.0;q=0.1, text/plain;q=0.5',
      ),
    ).to.equal('openmetrics');
    expect(
      negotiateFormat('text/plain;q=0.9, text/plain;version=0.0.4;q=0.1, application/openmetrics-text;q=0.5'),
    ).to.equal('text');
    // A q that is not a number is ignored, as is a version this endpoint does not serve.
    expect(negotiateFormat('application/openmetrics-text;q=abc')).to.equal('text');
    expect(negotiateFormat('application/openmetrics-text;version=0.0.1, text/plain;q=0.1')).to.equal('text');
    // "At least as much as the text format": a tie is OpenMetrics; a wildcard is not the text format.
    expect(negotiateFormat('application/openmetrics-text;q=0.5,text/plain;q=0.5')).to.equal('openmetrics');
    expect(negotiateFormat('application/openmetrics-text;q=0.5,*/*;q=0.9')).to.equal('openmetrics');
  });

  it('media types, parameter names and q are case-insensitive; quoted values and optional whitespace as RFC 9110 (issue 20 item 11)', () => {
    expect(negotiateFormat('APPLICATION/OPENMETRICS-TEXT; VERSION=1.0.0')).to.equal('openmetrics');
    expect(negotiateFormat('Application/OpenMetrics-Text;Version=1.0.0;Q=0.9, Text/Plain;Q=0.5')).to.equal(
      'openmetrics',
    );
    expect(negotiateFormat('application/openmetrics-text ; version="1.0.0" ; q=0.8 , text/plain ; q=0.5')).to.equal(
      'openmetrics',
    );
    expect(negotiateFormat('TEXT/PLAIN;q=0.9, application/openmetrics-text;q=0.5')).to.equal('text');
    // Another version, quoted or not, in any case, is not served as OpenMetrics 1.0.
    expect(negotiateFormat('APPLICATION/OPENMETRICS-TEXT;VERSION="0.0.1"')).to.equal('text');
    // A q that is not an RFC 9110 qvalue (above 1, more than three decimals, a sign) leaves its range out.
    expect(negotiateFormat('application/openmetrics-text;q=2, text/plain;q=0.5')).to.equal('text');
    expect(negotiateFormat('application/openmetrics-text;q=0.5555, text/plain;q=0.5')).to.equal('text');
    expect(negotiateFormat('application/openmetrics-text;q=-1')).to.equal('text');
    expect(negotiateFormat('application/openmetrics-text;q=1.000, text/plain')).to.equal('openmetrics');
    expect(negotiateFormat('application/openmetrics-text;q=0')).to.equal('text');
    // A comma or semicolon inside a quoted value does not split ranges or parameters.
    expect(parseAccept('a/b;x="1,2;3";q=0.5, c/d').map((r) => [r.type, r.params.get('x'), r.q])).to.deep.equal([
      ['a/b', '1,2;3', 0.5],
      ['c/d', undefined, 1],
    ]);
    expect(negotiateFormat('text/plain;note="openmetrics, yes";q=0.1, application/openmetrics-text;q=0.2')).to.equal(
      'openmetrics',
    );
    expect(negotiateFormat('text/plain;note="application/openmetrics-text"')).to.equal('text');
  });

  it('parseAccept: escaped quotes, names and values trimmed, malformed parameters and weights (mutation survivors)', () => {
    const one = (accept: string) => parseAccept(accept).map((r) => [r.type, Object.fromEntries(r.params), r.q]);
    // An escaped quote does not end the quoted string: the comma after it is still inside.
    expect(one('a/b;x="p\\"q,r";q=0.5, c/d')).to.deep.equal([
      ['a/b', { x: 'p"q,r' }, 0.5],
      ['c/d', {}, 1],
    ]);
    expect(one('a/b;x=""')).to.deep.equal([['a/b', { x: '' }, 1]]);
    // Half-quoted values stay as they are.
    expect(one('a/b;x="abc')).to.deep.equal([['a/b', { x: '"abc' }, 1]]);
    expect(one('a/b;x=abc"')).to.deep.equal([['a/b', { x: 'abc"' }, 1]]);
    expect(one('a/b;x="')).to.deep.equal([['a/b', { x: '"' }, 1]]);
    // Names are trimmed (so ` version=0.0.1` is a version), values too; no name or no `=`: ignored.
    expect(one('a/b ; Name = v ;=5;qq;q')).to.deep.equal([['a/b', { name: 'v' }, 1]]);
    expect(negotiateFormat('application/openmetrics-text; version=0.0.1')).to.equal('text');
    expect(negotiateFormat('application/openmetrics-text;qq, text/plain;q=0.5')).to.equal('openmetrics');
    // A malformed weight leaves the whole range out.
    expect(one('a/b;q=2, c/d;q=0.5')).to.deep.equal([['c/d', {}, 0.5]]);
    expect(negotiateFormat('application/openmetrics-text;q=10, text/plain;q=0.5')).to.equal('text');
    // `1` and `0` need no decimals.
    expect(negotiateFormat('text/plain;q=1, application/openmetrics-text;q=0.9')).to.equal('text');
    expect(one('a/b;q=0, c/d;q=1, e/f;q=1., g/h;q=0.')).to.deep.equal([
      ['a/b', {}, 0],
      ['c/d', {}, 1],
      ['e/f', {}, 1],
      ['g/h', {}, 0],
    ]);
  });

  it('Accept-Encoding: codings and q case-insensitive, the best of repeated codings, `*` only when gzip is not listed', () => {
    expect(acceptsGzip('GZIP')).to.equal(true);
    expect(acceptsGzip('gzip;Q=0')).to.equal(false);
    expect(acceptsGzip('gzip ; q=0.001')).to.equal(true);
    expect(acceptsGzip('gzip;q=2')).to.equal(false);
    expect(acceptsGzip('gzip;q=0, x-gzip;q=0.5')).to.equal(true);
    expect(acceptsGzip('*')).to.equal(true);
    expect(acceptsGzip('*;q=0')).to.equal(false);
    expect(acceptsGzip('gzip;q=0, *')).to.equal(false);
    expect(acceptsGzip('br, identity')).to.equal(false);
    // Only a parameter named q is a weight (any other is ignored), read whole, with optional spaces around `=`.
    expect(acceptsGzip('gzip;level=1')).to.equal(true);
    expect(acceptsGzip('gzip;xq=0')).to.equal(true);
    expect(acceptsGzip('gzip;q=0.000')).to.equal(false);
    expect(acceptsGzip('gzip;q =0')).to.equal(false);
  });

  it('textToOpenMetrics renames counter families only on HELP/TYPE lines, also with an empty HELP', () => {
    const text = [
      '# HELP jobs_total',
      '# TYPE jobs_total counter',
      'jobs_total{note="a # HELP jobs_total b"} 1',
      '# HELP weird_total see # TYPE weird_total counter',
      '# TYPE weird_total gauge',
      'weird_total 2',
      '# UNIT weird_total seconds',
      '',
    ].join('\n');
    expect(textToOpenMetrics(text)).to.equal(
      [
        '# HELP jobs',
        '# TYPE jobs counter',
        'jobs_total{note="a # HELP jobs_total b"} 1',
        '# HELP weird_total see # TYPE weird_total counter',
        '# TYPE weird_total gauge',
        'weird_total 2',
        '',
      ].join('\n'),
    );
    expect(textToOpenMetrics('')).to.equal('');
  });
});

function metric(name: string, dataPointType: DataPointType, isMonotonic = false): MetricData {
  const descriptor = { name, description: '', unit: '', valueType: ValueType.DOUBLE, type: 'COUNTER' as never };
  if (dataPointType === DataPointType.SUM)
    return {
      descriptor,
      dataPointType,
      isMonotonic,
      aggregationTemporality: AggregationTemporality.CUMULATIVE,
      dataPoints: [],
    } as MetricData;
  return {
    descriptor,
    dataPointType,
    aggregationTemporality: AggregationTemporality.CUMULATIVE,
    dataPoints: [],
  } as unknown as MetricData;
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
