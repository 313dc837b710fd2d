import { expect } from 'chai';
import { gunzipSync } from 'node:zlib';
import { startTelemetry, type Telemetry } from '@tuist-telemetry/core';
import {
  expectPromtoolParses,
  decodeFamilies,
  get,
  protobufSamples,
  textSamples,
  type PbFamily,
} from '../helpers/index.js';

/*
 * Issue 21 item 4 through the endpoint: what a Prometheus 3 scraper gets for each `escaping=` it can ask for. The
 * expected text syntax is prometheus/common's (expfmt/text_create_test.go case 2, copied); promtool (2.42, no UTF-8)
 * parses every legacy-valid output.
 */

const PB = 'application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited';
const TEXT = (escaping?: string) => 'text/plain;version=1.0.0' + (escaping ? ';escaping=' + escaping : '');
const OM = (escaping: string) => 'application/openmetrics-text;version=1.0.0;escaping=' + escaping;

describe('core: /metrics with Prometheus 3 name escaping (issue 21 item 4)', () => {
  let t: Telemetry;
  let url: string;
  beforeEach(async () => {
    t = startTelemetry({
      prometheus: { port: 0, host: '127.0.0.1', withTargetInfo: true },
      serviceName: 'api',
      runtimeMetrics: false,
      setGlobalMeterProvider: false,
    });
    await t.ready();
    url = t.url!;
    const meter = t.meterProvider.getMeter('lib');
    meter.createCounter('http.server.requests').add(3, { 'http.route': '/a' });
    const h = meter.createHistogram('http.server.request.duration', {
      unit: 's',
      advice: { explicitBucketBoundaries: [1, 10] },
    });
    h.record(0.5, { 'http.route': '/a' });
    h.record(5, { 'http.route': '/a' });
  });
  afterEach(() => t.shutdown());

  async function scrape(accept: string | undefined, gzip = false): Promise<{ type: string; body: Buffer }> {
    const headers: Record<string, string> = accept === undefined ? {} : { Accept: accept };
    if (gzip) headers['Accept-Encoding'] = 'gzip';
    const r = await get(url, headers);
    expect(r.status).to.equal(200);
    return {
      type: String(r.headers['content-type']),
      body: r.headers['content-encoding'] === 'gzip' ? gunzipSync(r.body) : r.body,
    };
  }

  /** The catalog's lines (HELP, TYPE, samples of `tuist_*`): the same in every scheme. */
  const catalog = (body: string) => body.split('\n').filter((l) => /^(# (HELP|TYPE) )?tuist_/.test(l));

  it('allow-utf-8: third-party names and label names keep their dots, quoted inside the braces', async () => {
    const { type, body } = await scrape(TEXT('allow-utf-8'));
    expect(type).to.equal('text/plain; version=1.0.0; charset=utf-8; escaping=allow-utf-8');
    const text = body.toString('utf8');
    expect(text).to.match(/^target_info\{.*,?"service\.name"="api"[,}]/m);
    const tail = text.slice(text.indexOf('# HELP "http.server.requests_total"'));
    expect(tail).to.equal(
      [
        '# HELP "http.server.requests_total" description missing',
        '# TYPE "http.server.requests_total" counter',
        '{"http.server.requests_total","http.route"="/a"} 3',
        '# HELP "http.server.request.duration" description missing',
        '# UNIT "http.server.request.duration" s',
        '# TYPE "http.server.request.duration" histogram',
        '{"http.server.request.duration_count","http.route"="/a"} 2',
        '{"http.server.request.duration_sum","http.route"="/a"} 5.5',
        '{"http.server.request.duration_bucket","http.route"="/a",le="1"} 1',
        '{"http.server.request.duration_bucket","http.route"="/a",le="10"} 2',
        '{"http.server.request.duration_bucket","http.route"="/a",le="+Inf"} 2',
        '',
      ].join('\n'),
    );
    expect(catalog(text)).to.deep.equal(catalog((await scrape(undefined)).body.toString('utf8')));
    // OpenMetrics: the counter family without `_total` (its sample keeps it), no UNIT, `# EOF` last.
    const om = await scrape(OM('allow-utf-8'));
    expect(om.type).to.equal('application/openmetrics-text; version=1.0.0; charset=utf-8; escaping=allow-utf-8');
    const omText = om.body.toString('utf8');
    expect(omText).to.contain(
      '# HELP "http.server.requests" description missing\n# TYPE "http.server.requests" counter\n{"http.server.requests_total","http.route"="/a"} 3\n',
    );
    expect(omText).to.contain(
      '# TYPE "http.server.request.duration" histogram\n{"http.server.request.duration_count","http.route"="/a"} 2\n',
    );
    expect(omText).to.not.contain('# UNIT');
    expect(omText.endsWith('# EOF\n')).to.equal(true);
    expect(catalog(omText)).to.deep.equal(
      catalog((await scrape('application/openmetrics-text;version=1.0.0')).body.toString('utf8')),
    );
  });

  it('writes the syntax of prometheus/common text_create_test case 2 (quoted metric and label names, escaped values)', async () => {
    const g = t.meterProvider.getMeter('lib').createGauge('gauge.name', { description: 'gauge\ndoc\nstr"ing' });
    g.record(Infinity, { 'name.1': 'val with\nnew line', 'name*2': 'val with \\backslash and "quotes"' });
    g.record(3.14e42, { 'name.1': 'Björn', 'name*2': '佖佥' });
    const text = (await scrape(TEXT('allow-utf-8'))).body.toString('utf8');
    const at = text.indexOf('# HELP "gauge.name"');
    expect(text.slice(at)).to.equal(`# HELP "gauge.name" gauge\\ndoc\\nstr"ing
# TYPE "gauge.name" gauge
{"gauge.name","name.1"="val with\\nnew line","name*2"="val with \\\\backslash and \\"quotes\\""} +Inf
{"gauge.name","name.1"="Björn","name*2"="佖佥"} 3.14e+42
`);
  });

  it('underscores, dots and values: every name legacy-valid by the scheme; promtool parses text and OpenMetrics', async function () {
    const expected: Record<string, [string, string, string]> = {
      underscores: [
        'http_server_requests_total{http_route="/a"} 3',
        'http_server_request_duration_bucket{http_route="/a",le="10"} 2',
        'service_name="api"',
      ],
      dots: [
        'http_dot_server_dot_requests__total{http_dot_route="/a"} 3',
        'http_dot_server_dot_request_dot_duration_bucket{http_dot_route="/a",le="10"} 2',
        'service_dot_name="api"',
      ],
      values: [
        'U__http_2e_server_2e_requests__total{U__http_2e_route="/a"} 3',
        'U__http_2e_server_2e_request_2e_duration_bucket{U__http_2e_route="/a",le="10"} 2',
        'U__service_2e_name="api"',
      ],
    };
    const plain = (await scrape(undefined)).body.toString('utf8');
    for (const [scheme, lines] of Object.entries(expected)) {
      const { type, body } = await scrape(TEXT(scheme), true);
      expect(type).to.equal(`text/plain; version=1.0.0; charset=utf-8; escaping=${scheme}`);
      const text = body.toString('utf8');
      const has = (body: string, l: string) =>
        body.split('\n').some((x) => x === l || (l.endsWith('"api"') && x.startsWith('target_info{') && x.includes(l)));
      for (const l of lines) expect(has(text, l), `${scheme}: ${l}`).to.equal(true);
      expect(catalog(text), scheme).to.deep.equal(catalog(plain));
      expectPromtoolParses(this, text);
      const om = await scrape(OM(scheme));
      expect(om.type).to.equal(`application/openmetrics-text; version=1.0.0; charset=utf-8; escaping=${scheme}`);
      const omText = om.body.toString('utf8');
      expect(omText.endsWith('# EOF\n')).to.equal(true);
      expect(omText).to.not.contain('# UNIT');
      for (const l of lines) expect(has(omText, l), `OpenMetrics ${scheme}: ${l}`).to.equal(true);
      expectPromtoolParses(this, omText);
    }
    // For names whose sanitising agrees, `underscores` is what a scraper asking for nothing gets, byte for byte.
    expect((await scrape(TEXT('underscores'))).body.toString('utf8')).to.equal(plain);
    expect((await scrape(OM('underscores'))).body.toString('utf8')).to.equal(
      (await scrape('application/openmetrics-text;version=1.0.0')).body.toString('utf8'),
    );
  });

  it('protobuf carries the names of the scheme, and every sample equals the text scrape of the same scheme', async () => {
    const names = (families: PbFamily[]) => families.map((f) => f.name).filter((n) => !n.startsWith('tuist_'));
    const labels = (families: PbFamily[], name: string) =>
      families.find((f) => f.name === name)!.metric![0]!.label!.map((l) => l.name);
    const utf8 = await scrape(PB + ';escaping=allow-utf-8', true);
    expect(utf8.type).to.equal(
      'application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited; escaping=allow-utf-8',
    );
    const families = decodeFamilies(utf8.body);
    expect(names(families)).to.deep.equal([
      'target_info',
      'http.server.requests_total',
      'http.server.request.duration',
    ]);
    expect(labels(families, 'http.server.requests_total')).to.deep.equal(['http.route']);
    expect(labels(families, 'target_info')).to.include('service.name');
    for (const scheme of ['underscores', 'dots', 'values']) {
      const pb = decodeFamilies((await scrape(`${PB};escaping=${scheme}`)).body);
      const text = textSamples((await scrape(TEXT(scheme))).body.toString('utf8'));
      expect(Object.fromEntries([...protobufSamples(pb)].sort()), scheme).to.deep.equal(
        Object.fromEntries([...text.samples].sort()),
      );
    }
    // No scheme asked for: the stock names, as before.
    expect(names(decodeFamilies((await scrape(PB)).body))).to.deep.equal([
      'target_info',
      'http_server_requests_total',
      'http_server_request_duration',
    ]);
  });
});
