import { expect } from 'chai';
import { DataPointType, type MetricData, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { fixResourceMetrics } from '../../src/labels/attributes.js';
import { escapeName, exposedName, parseEscaping, quoteName, type EscapingScheme } from '../../src/labels/escaping.js';
import { negotiateScrape } from '../../src/prometheus/negotiate.js';

/*
 * Issue 21 item 4. The expected values are prometheus/common's (model/metric_test.go TestEscapeName, commit d2417e2 of
 * 2026-08-21; expfmt/text_create_test.go case 2), and the Accept headers the ones Prometheus 3 sends
 * (scrape/scrape_test.go; a Prometheus 3.3 scrape), copied here: Prometheus 2.42 on this machine predates UTF-8.
 */

/** TestEscapeName: input, underscores, dots, values. */
const ESCAPE_CASES: [string, string, string, string][] = [
  ['', '', '', ''],
  ['no:escaping_required', 'no:escaping_required', 'no:escaping__required', 'no:escaping_required'],
  [
    'mysystem.prod.west.cpu.load',
    'mysystem_prod_west_cpu_load',
    'mysystem_dot_prod_dot_west_dot_cpu_dot_load',
    'U__mysystem_2e_prod_2e_west_2e_cpu_2e_load',
  ],
  [
    'mysystem.prod.west.cpu.load_total',
    'mysystem_prod_west_cpu_load_total',
    'mysystem_dot_prod_dot_west_dot_cpu_dot_load__total',
    'U__mysystem_2e_prod_2e_west_2e_cpu_2e_load__total',
  ],
  ['http.status:sum', 'http_status:sum', 'http_dot_status:sum', 'U__http_2e_status:sum'],
  ['label with 😱', 'label_with__', 'label__with____', 'U__label_20_with_20__1f631_'],
  ['花火', '__', '____', 'U___82b1__706b_'],
  ['label with \u0100', 'label_with__', 'label__with____', 'U__label_20_with_20__100_'],
];

/** What Prometheus 3 sends by default, and with protobuf first (scrape_protocols), and one asking for dots. */
const PROM3_DEFAULT =
  'application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.6,application/openmetrics-text;version=0.0.1;q=0.5,text/plain;version=1.0.0;escaping=allow-utf-8;q=0.4,text/plain;version=0.0.4;q=0.3,*/*;q=0.2';
const PROM3_PROTO_FIRST =
  'application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;escaping=allow-utf-8;q=0.7,' +
  PROM3_DEFAULT.replace('q=0.6', 'q=0.65');
const PROM3_TEXT_DOTS = 'text/plain;version=1.0.0;escaping=dots;q=0.3,text/plain;version=0.0.4;q=0.2,*/*;q=0.1';

describe('core: UTF-8 names and escaping schemes (issue 21 item 4)', () => {
  it('escapes names as prometheus/common does (TestEscapeName), and leaves legacy-valid names alone when exposing', () => {
    for (const [input, underscores, dots, values] of ESCAPE_CASES) {
      expect(escapeName(input, 'underscores'), `underscores ${input}`).to.equal(underscores);
      expect(escapeName(input, 'dots'), `dots ${input}`).to.equal(dots);
      expect(escapeName(input, 'values'), `values ${input}`).to.equal(values);
      expect(escapeName(input, 'allow-utf-8')).to.equal(input);
    }
    // EscapeMetricFamily: a legacy-valid name is never changed, in any scheme (the catalog's names, `_total` ones too).
    for (const scheme of ['allow-utf-8', 'underscores', 'dots', 'values'] as EscapingScheme[]) {
      expect(exposedName('tuist_cache_uploaded_bytes', scheme)).to.equal('tuist_cache_uploaded_bytes');
      expect(exposedName('no:escaping_required', scheme)).to.equal('no:escaping_required');
    }
    expect(exposedName('http.server.requests_total', 'dots')).to.equal('http_dot_server_dot_requests__total');
    expect(exposedName('http.server.requests_total', 'allow-utf-8')).to.equal('http.server.requests_total');
  });

  it('escapes a label name with `:` too (a legacy label name cannot hold it), and a leading digit', () => {
    expect(exposedName('a:b', 'underscores', true)).to.equal('a_b');
    expect(exposedName('a:b', 'values', true)).to.equal('U__a_3a_b');
    expect(exposedName('a:b', 'underscores')).to.equal('a:b');
    expect(exposedName('1abc', 'underscores')).to.equal('_abc');
    expect(exposedName('1abc', 'values')).to.equal('U___31_abc');
  });

  it('quotes in the text formats exactly the names that are not legacy-valid (expfmt writeName)', () => {
    expect(quoteName('gauge_name')).to.equal('gauge_name');
    expect(quoteName('gauge.name')).to.equal('"gauge.name"');
    expect(quoteName('gauge.name"')).to.equal('"gauge.name\\""');
    expect(quoteName('a\\b\nc')).to.equal('"a\\\\b\\nc"');
    expect(quoteName('a:b')).to.equal('a:b');
    expect(quoteName('a:b', true)).to.equal('"a:b"');
  });

  it('takes the scheme from the chosen media range and echoes it in Content-Type; none asked for: as before', () => {
    expect(negotiateScrape(PROM3_DEFAULT)).to.deep.equal({
      format: 'openmetrics',
      escaping: 'allow-utf-8',
      contentType: 'application/openmetrics-text; version=1.0.0; charset=utf-8; escaping=allow-utf-8',
    });
    expect(negotiateScrape(PROM3_PROTO_FIRST)).to.deep.equal({
      format: 'protobuf',
      escaping: 'allow-utf-8',
      contentType:
        'application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited; escaping=allow-utf-8',
    });
    expect(negotiateScrape(PROM3_TEXT_DOTS)).to.deep.equal({
      format: 'text',
      escaping: 'dots',
      contentType: 'text/plain; version=1.0.0; charset=utf-8; escaping=dots',
    });
    expect(negotiateScrape('text/plain;version=1.0.0').contentType).to.equal(
      'text/plain; version=1.0.0; charset=utf-8',
    );
    expect(negotiateScrape('TEXT/PLAIN;Version=1.0.0;ESCAPING=Values').escaping).to.equal('values');
    // Protobuf first without a scheme on its range: the text ranges' scheme does not apply to it.
    expect(negotiateScrape(PROM3_PROTO_FIRST.replace(';escaping=allow-utf-8;q=0.7', ';q=0.7')).escaping).to.equal(
      undefined,
    );
    // No parameter, an unknown one, or no Accept: names and Content-Type as before.
    for (const accept of [
      undefined,
      '',
      '*/*',
      'text/plain;version=0.0.4',
      'text/plain;escaping=percent',
      'application/json',
    ]) {
      expect(negotiateScrape(accept), String(accept)).to.deep.equal({
        format: 'text',
        escaping: undefined,
        contentType: 'text/plain; version=0.0.4; charset=utf-8',
      });
    }
    expect(parseEscaping('allow-utf-8')).to.equal('allow-utf-8');
    expect(parseEscaping('utf-8')).to.equal(undefined);
  });

  it('the label policy names attribute keys per scheme, collisions and reserved names resolved as without one', () => {
    const attrs = { 'http.route': '/a', http_route: '/b', __secret: 'x', le: 'y', plain: 'z' };
    const rm: ResourceMetrics = {
      resource: resourceFromAttributes({ 'service.name': 'api' }),
      scopeMetrics: [
        {
          scope: { name: 'lib' },
          metrics: [
            {
              descriptor: { name: 'h' },
              dataPointType: DataPointType.HISTOGRAM,
              dataPoints: [{ attributes: attrs }],
            } as unknown as MetricData,
          ],
        },
      ],
    };
    const keys = (escaping?: EscapingScheme) => {
      const fixed = fixResourceMetrics(rm, { escaping });
      return [
        Object.keys(fixed.scopeMetrics[0]!.metrics[0]!.dataPoints[0]!.attributes).sort(),
        Object.keys(fixed.resource.attributes),
      ];
    };
    expect(keys()).to.deep.equal([['_secret', 'exported_le', 'http_route', 'http_route_2', 'plain'], ['service_name']]);
    expect(keys('allow-utf-8')).to.deep.equal([
      ['_secret', 'exported_le', 'http.route', 'http_route', 'plain'],
      ['service.name'],
    ]);
    expect(keys('underscores')).to.deep.equal([
      ['_secret', 'exported_le', 'http_route', 'http_route_2', 'plain'],
      ['service_name'],
    ]);
    expect(keys('dots')).to.deep.equal([
      ['_secret', 'exported_le', 'http_dot_route', 'http_route', 'plain'],
      ['service_dot_name'],
    ]);
    expect(keys('values')).to.deep.equal([
      ['U__http_2e_route', '_secret', 'exported_le', 'http_route', 'plain'],
      ['U__service_2e_name'],
    ]);
  });
});
