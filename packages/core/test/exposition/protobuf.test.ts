import { expect } from 'chai';
import { gunzipSync } from 'node:zlib';
import http from 'node:http';
import { diag, DiagLogLevel, trace } from '@opentelemetry/api';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { startTelemetry, type Telemetry } from '@tuist-telemetry/core';
import { negotiateExposition } from '../../src/prometheus/format.js';
import { ProtoWriter } from '../../src/prometheus/pb-writer.js';
import protobuf from 'protobufjs';
import {
  startClusterApp,
  type ClusterApp,
  PROMETHEUS_PROTOBUF_ACCEPT,
  PROTOBUF_TYPE,
  decodeFamilies,
  get,
  protobufSamples,
  textSamples,
  timestampMs,
  type PbFamily,
  startReady,
  withTracing,
  startLocal,
  keepingLogger,
} from '../helpers/index.js';

const HISTOGRAM = 'tuist_runs_duration_milliseconds';

/** A 64-bit integer protobufjs read (a Long, or its own LongBits without the long package) as a number. */
const asNumber = (v: unknown): number => (v as { toNumber(): number }).toNumber();

/** A protobuf scrape as Prometheus takes it (gzip), decoded; and the text 0.0.4 scrape of the same state. */
async function scrapeBoth(url: string): Promise<{ families: PbFamily[]; text: string }> {
  const pb = await get(url, { Accept: PROMETHEUS_PROTOBUF_ACCEPT, 'Accept-Encoding': 'gzip' });
  expect(pb.status).to.equal(200);
  expect(pb.headers['content-type']).to.equal(PROTOBUF_TYPE);
  expect(pb.headers['content-encoding']).to.equal('gzip');
  const families = decodeFamilies(gunzipSync(pb.body));
  const text = await get(url, { Accept: 'text/plain;version=0.0.4' });
  expect(text.headers['content-type']).to.equal('text/plain; version=0.0.4; charset=utf-8');
  return { families, text: text.body.toString('utf8') };
}

/** Every sample, HELP and TYPE of the protobuf scrape equals the text scrape's; returns the sample count. */
function expectSameAsText(families: readonly PbFamily[], text: string): number {
  const t = textSamples(text);
  const pb = protobufSamples(families);
  expect(Object.fromEntries([...pb].sort())).to.deep.equal(Object.fromEntries([...t.samples].sort()));
  expect(new Set(families.map((f) => f.name)).size, 'one message per family').to.equal(families.length);
  for (const f of families) {
    expect(f.help, `HELP of ${f.name}`).to.equal(t.help.get(f.name));
    expect((f.type ?? 'COUNTER').toLowerCase(), `TYPE of ${f.name}`).to.equal(t.type.get(f.name));
  }
  return pb.size;
}

describe('core: protobuf exposition (issue 21 item 1)', () => {
  it('is chosen when Accept prefers delimited io.prometheus.client.MetricFamily, in any case; else as before', () => {
    expect(negotiateExposition(PROMETHEUS_PROTOBUF_ACCEPT)).to.equal('protobuf');
    expect(
      negotiateExposition(
        'APPLICATION/VND.GOOGLE.PROTOBUF; PROTO=io.prometheus.client.MetricFamily; ENCODING=delimited',
      ),
    ).to.equal('protobuf');
    // Not delimited, another message, or asked for less than the text formats: not protobuf.
    expect(
      negotiateExposition('application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=text'),
    ).to.equal('text');
    expect(negotiateExposition('application/vnd.google.protobuf;proto=other.Message;encoding=delimited')).to.equal(
      'text',
    );
    expect(
      negotiateExposition(
        'application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0.4,text/plain;q=0.5',
      ),
    ).to.equal('text');
    expect(
      negotiateExposition(
        'application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0.5,application/openmetrics-text;version=1.0.0',
      ),
    ).to.equal('openmetrics');
    expect(
      negotiateExposition(
        'application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0',
      ),
    ).to.equal('text');
    // Without protobuf in Accept, exactly the text negotiation (Prometheus without native histograms).
    expect(negotiateExposition('application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5')).to.equal(
      'openmetrics',
    );
    expect(negotiateExposition(undefined)).to.equal('text');
  });

  it('the byte writer: nested lengths of every varint size, keys of fields from 16 on, zigzag and 2^53 integers', () => {
    const w = new ProtoWriter(16);
    const sizes = [0, 1, 127, 128, 16383, 16384, 2_097_152];
    for (const n of sizes) {
      const outer = w.open(0);
      const inner = w.open(16);
      w.string(1, 'x'.repeat(n));
      w.close(inner);
      w.sint(2, -n - 1);
      w.uint(3, 2 ** 53 - 1 - n);
      w.close(outer);
    }
    const r = protobuf.Reader.create(w.buf.subarray(0, w.pos));
    for (const n of sizes) {
      const end = r.uint32() + r.pos;
      expect(r.uint32()).to.equal((16 << 3) | 2);
      const innerEnd = r.uint32() + r.pos;
      expect(r.uint32()).to.equal((1 << 3) | 2);
      expect(r.string()).to.equal('x'.repeat(n));
      expect(r.pos).to.equal(innerEnd);
      expect(r.uint32()).to.equal(2 << 3);
      expect(asNumber(r.sint64())).to.equal(-n - 1);
      expect(r.uint32()).to.equal(3 << 3);
      expect(asNumber(r.uint64())).to.equal(2 ** 53 - 1 - n);
      expect(r.pos).to.equal(end);
    }
    expect(r.pos).to.equal(r.len);
  });

  describe('one app, every family', () => {
    let t: Telemetry;
    before(async () => {
      t = await startReady();
      t.metrics.recordCacheUpload(1234);
      t.metrics.recordRun({ name: 'build "a"\\b\nc é', isCi: true, status: 0, durationMs: 120 });
      t.metrics.recordRun({ name: 'test', isCi: false, status: 1, durationMs: 1e9 });
      for (let i = 0; i < 300; i++)
        t.metrics.recordRun({ name: `many-${i % 7}`, isCi: i % 2 === 0, status: 0, durationMs: i * 37.5 });
      const meter = t.meterProvider.getMeter('lib', '1.2.3');
      meter
        .createCounter('lib.requests', { description: 'Requests "served"\nand more' })
        .add(3, { 'http.route': '/a', code: 200 });
      meter.createCounter('lib.bytes_total').add(2.5);
      meter.createUpDownCounter('lib.queue').add(-4, { queue: 'q' });
      meter.createObservableGauge('lib.temperature').addCallback((r) => r.observe(21.5, { room: 'x' }));
      const h = meter.createHistogram('lib.latency', { advice: { explicitBucketBoundaries: [1, 10, 100] } });
      for (const v of [0.5, 5, 50, 500, 7]) h.record(v, { op: 'read' });
      meter.createHistogram('lib.empty').record(3);
    });
    after(() => t.shutdown());

    it('every family and value equals the text scrape of the same state (gzip as today)', async () => {
      const { families, text } = await scrapeBoth(t.url!);
      const n = expectSameAsText(families, text);
      expect(n).to.be.greaterThan(100);
      const names = families.map((f) => f.name);
      // Documented names, the counters without `_total` included (a counter in protobuf, named as in text).
      for (const name of [
        'tuist_cache_uploaded_bytes',
        'tuist_runs_total',
        HISTOGRAM,
        'lib_requests_total',
        'lib_bytes_total',
        'lib_queue',
        'lib_temperature',
        'lib_latency',
      ]) {
        expect(names, name).to.include(name);
      }
      expect(families.find((f) => f.name === 'tuist_cache_uploaded_bytes')!.type).to.equal('COUNTER');
      expect(families.find((f) => f.name === HISTOGRAM)!.type).to.equal('HISTOGRAM');
      expect(families.find((f) => f.name === 'lib_queue')!.type).to.equal('GAUGE');
    });

    it('uncompressed and HEAD answers carry the same body and an honest Content-Length', async () => {
      const plain = await get(t.url!, { Accept: PROMETHEUS_PROTOBUF_ACCEPT });
      expect(plain.headers['content-type']).to.equal(PROTOBUF_TYPE);
      expect(Number(plain.headers['content-length'])).to.equal(plain.body.length);
      expect(decodeFamilies(plain.body).map((f) => f.name)).to.include(HISTOGRAM);
      const head = await new Promise<http.IncomingMessage>((resolve, reject) =>
        http
          .request(t.url!, { method: 'HEAD', headers: { Accept: PROMETHEUS_PROTOBUF_ACCEPT }, agent: false }, resolve)
          .on('error', reject)
          .end(),
      );
      head.resume();
      expect(head.headers['content-type']).to.equal(PROTOBUF_TYPE);
      expect(Number(head.headers['content-length'])).to.equal(plain.body.length);
    });
  });

  it('the server naming profile: the same names in protobuf as in text', async () => {
    const t = startTelemetry({
      prometheus: { port: 0, host: '127.0.0.1' },
      naming: 'server',
      runtimeMetrics: false,
      setGlobalMeterProvider: false,
    });
    try {
      await t.ready();
      t.metrics.recordRun({ name: 'build', isCi: true, status: 0, durationMs: 120 });
      t.metrics.recordCacheUpload(7);
      const { families, text } = await scrapeBoth(t.url!);
      expectSameAsText(families, text);
      expect(families.map((f) => f.name)).to.include(t.nameOf('tuist_cache_uploaded_bytes'));
    } finally {
      await t.shutdown();
    }
  });

  it('scope labels and target_info (opt-in) are the same series in protobuf', async () => {
    const t = startTelemetry({
      prometheus: { port: 0, host: '127.0.0.1', withScopeLabels: true, withTargetInfo: true },
      runtimeMetrics: false,
      setGlobalMeterProvider: false,
    });
    try {
      await t.ready();
      t.metrics.recordRun({ name: 'build', isCi: true, status: 0, durationMs: 120 });
      t.meterProvider
        .getMeter('lib', '2.0.0', { schemaUrl: 'https://example.com/s' })
        .createCounter('lib.requests')
        .add(3, { k: 'v' });
      const { families, text } = await scrapeBoth(t.url!);
      expectSameAsText(families, text);
      expect(families.map((f) => f.name)).to.include('target_info');
      const runs = families.find((f) => f.name === 'tuist_runs_total')!;
      expect(runs.metric![0]!.label!.map((l) => l.name)).to.include('otel_scope_name');
      const lib = families.find((f) => f.name === 'lib_requests_total')!;
      expect(lib.metric![0]!.label!.map((l) => l.name)).to.include.members([
        'otel_scope_name',
        'otel_scope_version',
        'otel_scope_schema_url',
      ]);
    } finally {
      await t.shutdown();
    }
  });

  it('bucket exemplars as OpenMetrics serves them (trace id, span id, value, timestamp)', async () => {
    const t = startLocal();
    try {
      await t.ready();
      const sc = await withTracing(new NodeTracerProvider(), () =>
        trace.getTracer('test').startActiveSpan('run', (span) => {
          t.metrics.recordRun({ name: 'build', isCi: false, status: 0, durationMs: 150 });
          span.end();
          return span.spanContext();
        }),
      );
      t.metrics.recordRun({ name: 'build', isCi: false, status: 0, durationMs: 170 }); // no span: no exemplar
      const om = (await get(t.url!, { Accept: 'application/openmetrics-text;version=1.0.0' })).body.toString();
      const omLine = om.split('\n').find((l) => l.startsWith(`${HISTOGRAM}_bucket{`) && l.includes(' # '))!;
      const omTs = Number(/ (\d+\.\d{3})$/.exec(omLine)![1]);
      const families = decodeFamilies((await get(t.url!, { Accept: PROMETHEUS_PROTOBUF_ACCEPT })).body);
      const h = families.find((f) => f.name === HISTOGRAM)!.metric![0]!.histogram!;
      const withExemplar = h.bucket!.filter((b) => b.exemplar !== undefined);
      expect(withExemplar).to.have.length(1);
      const b = withExemplar[0]!;
      expect(omLine).to.contain(`le="${b.upperBound}"`);
      expect(b.exemplar!.label).to.deep.equal([
        { name: 'trace_id', value: sc.traceId },
        { name: 'span_id', value: sc.spanId },
      ]);
      expect(b.exemplar!.value).to.equal(150);
      const ts = b.exemplar!.timestamp!;
      expect((ts.seconds ?? 0) + (ts.nanos ?? 0) / 1e9).to.be.closeTo(omTs, 0.0005);
    } finally {
      await t.shutdown();
    }
  });

  it('created timestamps (issue 21 item 3): start-up for series that exist from start-up, else their first record', async () => {
    const before = Date.now();
    const t = startLocal();
    const started = Date.now();
    try {
      await t.ready();
      await new Promise((r) => setTimeout(r, 50));
      const recorded = Date.now();
      t.metrics.recordRun({ name: 'build', isCi: true, status: 0, durationMs: 120 });
      t.metrics.recordCacheUpload(5);
      const counter = t.meterProvider.getMeter('lib').createCounter('lib.requests');
      counter.add(3);
      t.meterProvider.getMeter('lib').createHistogram('lib.latency').record(4);
      const after = Date.now();
      const families = decodeFamilies((await get(t.url!, { Accept: PROMETHEUS_PROTOBUF_ACCEPT })).body);
      const first = (name: string) => families.find((f) => f.name === name)!.metric![0]!;
      // Unlabelled counters exist from start-up; labelled series are created by their first record.
      expect(timestampMs(first('tuist_cache_uploaded_bytes').counter!.createdTimestamp)).to.be.within(before, started);
      expect(timestampMs(first('tuist_runs_total').counter!.createdTimestamp)).to.be.within(recorded, after);
      expect(timestampMs(first(HISTOGRAM).histogram!.createdTimestamp)).to.be.within(recorded, after);
      // A third-party counter: its data point's start time.
      expect(timestampMs(first('lib_requests_total').counter!.createdTimestamp)).to.be.within(before, after);
      expect(timestampMs(first('lib_latency').histogram!.createdTimestamp)).to.be.within(before, after);
      // Gauges have none (the field does not exist for them).
      expect(first('tuist_application_info').gauge).to.not.have.property('createdTimestamp');
    } finally {
      await t.shutdown();
    }
  });

  it('a family that throws is left out of the protobuf scrape too, counted in tuist_telemetry_render_errors_total', async () => {
    const { logger, errors } = keepingLogger();
    diag.setLogger(logger, DiagLogLevel.WARN);
    const t = startLocal();
    try {
      await t.ready();
      t.metrics.recordRun({ name: 'build', isCi: true, status: 0, durationMs: 120 });
      t.metrics.recordCacheUpload(5);
      const series = [...t.store.histogram(HISTOGRAM).series][0]!;
      Object.defineProperty(series, 'sum', {
        configurable: true,
        get: () => {
          throw new TypeError('corrupt series');
        },
      });
      const families = decodeFamilies((await get(t.url!, { Accept: PROMETHEUS_PROTOBUF_ACCEPT })).body);
      const names = families.map((f) => f.name);
      expect(names).to.not.include(HISTOGRAM);
      expect(names).to.include.members(['tuist_runs_total', 'tuist_cache_uploaded_bytes']);
      const samples = protobufSamples(families);
      expect(samples.get(`tuist_telemetry_render_errors_total{metric="${HISTOGRAM}"}`)).to.equal(1);
      expect(errors.filter((e) => e.includes(HISTOGRAM))).to.have.length(1);
    } finally {
      await t.shutdown();
      diag.disable();
    }
  });
});

describe('core: protobuf exposition from a node:cluster primary (merged view)', function () {
  this.timeout(120_000);
  let app: ClusterApp | undefined;
  after(() => app?.stop());

  it('serves the merged view in protobuf, equal to its text scrape (classic buckets only, native histograms on or not)', async () => {
    app = await startClusterApp({
      WORKERS: '2',
      TUIST_TELEMETRY_RUNTIME_METRICS: 'false',
      TUIST_TELEMETRY_NATIVE_HISTOGRAMS: 'true',
    });
    for (let i = 0; i < 10; i++) expect(await app.get(`/run?name=pb`)).to.equal('ok');
    const { families, text } = await scrapeBoth(app.metricsUrl);
    expectSameAsText(families, text);
    const runs = protobufSamples(families);
    expect(runs.get('tuist_runs_total{is_ci="false",name="pb",status="0"}')).to.equal(10);
    expect(runs.get(`${HISTOGRAM}_count{is_ci="false",name="pb",status="0"}`)).to.equal(10);
    // node:cluster snapshots carry no native buckets: the merged view serves none rather than empty ones.
    for (const m of families.find((f) => f.name === HISTOGRAM)!.metric!)
      expect(m.histogram!.schema).to.equal(undefined);
  });
});
