import { expect } from 'chai';
import net from 'node:net';
import { diag } from '@opentelemetry/api';
import { captureDiag, scrape, samples, value } from '@tuist-telemetry/testing';
import { startTelemetry, getTelemetry, TelemetryConfigError } from '@tuist-telemetry/core';

const base = { prometheus: { port: 0, host: '127.0.0.1' }, runtimeMetrics: false } as const;

describe('core: configuration errors throw at start-up with what to change', () => {
  const cases: [string, Parameters<typeof startTelemetry>[0], RegExp][] = [
    ['port out of range (option)', { ...base, prometheus: { port: 70000 } }, /options\.prometheus\.port must be an integer from 0 to 65535, got 70000/],
    ['port not a number (env)', { env: { OTEL_EXPORTER_PROMETHEUS_PORT: 'abc' } }, /OTEL_EXPORTER_PROMETHEUS_PORT must be an integer from 0 to 65535, got "abc"/],
    ['unknown naming profile (env)', { ...base, env: { TUIST_TELEMETRY_NAMING: 'elixir' } }, /TUIST_TELEMETRY_NAMING: unknown naming profile "elixir"; valid values are docs, server/],
    ['unknown naming profile (option)', { ...base, naming: 'x' as never }, /options\.naming: unknown naming profile "x"/],
    ['unknown exporter', { ...base, env: { OTEL_METRICS_EXPORTER: 'prometheus,zipkin' } }, /OTEL_METRICS_EXPORTER: unknown exporter "zipkin"; valid values are prometheus, otlp, console, none/],
    ['unknown OTLP protocol', { ...base, env: { OTEL_METRICS_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: 'udp' } }, /unknown protocol "udp"; valid values are http\/protobuf, http\/json, grpc/],
    ['unknown high-cardinality label', { ...base, env: { TUIST_TELEMETRY_HIGH_CARDINALITY_LABELS: 'object_key,user_id' } }, /unknown label "user_id"; valid values are object_key, upload_id, part_number, all or none/],
    ['bad max label values', { ...base, env: { TUIST_TELEMETRY_MAX_LABEL_VALUES: '0' } }, /TUIST_TELEMETRY_MAX_LABEL_VALUES must be an integer from 1/],
    ['bad runtime flag', { prometheus: base.prometheus, env: { TUIST_TELEMETRY_RUNTIME_METRICS: 'maybe' } }, /TUIST_TELEMETRY_RUNTIME_METRICS must be true or false/],
  ];
  for (const [what, options, message] of cases) {
    it(what, () => {
      expect(() => startTelemetry(options)).to.throw(TelemetryConfigError, message);
    });
  }
});

describe('core: lifecycle', () => {
  it('a busy port: the host keeps running, ready() rejects naming the port and the variable', async () => {
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const port = (blocker.address() as net.AddressInfo).port;
    const logged = captureDiag(diag);
    try {
      const t = startTelemetry({ ...base, prometheus: { host: '127.0.0.1', port } });
      let err: Error | undefined;
      await t.ready().catch((e: Error) => (err = e));
      expect(err).to.be.instanceOf(Error);
      expect(err!.message).to.contain(String(port)).and.to.contain('OTEL_EXPORTER_PROMETHEUS_PORT');
      // Recording still works and never throws.
      t.metrics.recordRun({ name: 'build', isCi: false, status: 0, durationMs: 1 });
      await t.shutdown();
      expect(logged.lines, 'reported once through diag').to.have.length(1);
      expect(logged.lines[0]).to.match(/^error: .*cannot listen on 127\.0\.0\.1:\d+/);
    } finally {
      logged.restore();
      blocker.close();
    }
  });

  it('shutdown is idempotent, closes the endpoint and clears getTelemetry()', async () => {
    const t = startTelemetry(base);
    await t.ready();
    const url = t.url!;
    expect(getTelemetry()).to.equal(t);
    const a = t.shutdown();
    const b = t.shutdown();
    expect(a).to.equal(b);
    await a;
    await t.shutdown();
    expect(getTelemetry()).to.equal(undefined);
    let refused = false;
    await fetch(url).catch(() => (refused = true));
    expect(refused).to.equal(true);
  });

  it('reads host and port from OTEL_EXPORTER_PROMETHEUS_HOST/PORT', async () => {
    const probe = net.createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const port = (probe.address() as net.AddressInfo).port;
    await new Promise((r) => probe.close(r));
    const t = startTelemetry({ runtimeMetrics: false, env: { OTEL_EXPORTER_PROMETHEUS_HOST: '127.0.0.1', OTEL_EXPORTER_PROMETHEUS_PORT: String(port) } });
    try {
      await t.ready();
      expect(t.url).to.equal(`http://127.0.0.1:${port}/metrics`);
    } finally {
      await t.shutdown();
    }
  });

  it('the default port is 9091', () => {
    const t = startTelemetry({ runtimeMetrics: false, exporters: 'none', env: {} });
    expect(t.config.prometheus.port).to.equal(9091);
    return t.shutdown();
  });
});

describe('core: naming profiles', () => {
  it('docs (default) serves the documented spellings; server serves the Tuist server spellings, never both', async () => {
    const docs = startTelemetry({ ...base, highCardinalityLabels: [] });
    const server = startTelemetry({ ...base, env: { TUIST_TELEMETRY_NAMING: 'server' } });
    try {
      await Promise.all([docs.ready(), server.ready()]);
      const [d, s] = await Promise.all([scrape(docs.url!), scrape(server.url!)]);
      const pairs = [
        ['tuist_storage_get_object_size_duration_miliseconds', 'tuist_storage_get_object_size_duration_milliseconds'],
        ['tuist_storage_multipart_start_upload_duration_count', 'tuist_storage_multipart_start_upload_count'],
        ['tuist_storage_multipart_complete_upload_count', 'tuist_storage_multipart_complete_upload_duration_count'],
        ['tuist_http_request_duration_nanosecond', 'tuist_http_request_duration_nanoseconds'],
      ];
      for (const [docName, serverName] of pairs) {
        expect(d.has(docName!), docName).to.equal(true);
        expect(d.has(serverName!), serverName).to.equal(false);
        expect(s.has(serverName!), serverName).to.equal(true);
        expect(s.has(docName!), docName).to.equal(false);
      }
      expect(server.nameOf('tuist_http_request_duration_nanosecond')).to.equal('tuist_http_request_duration_nanoseconds');
      // Recording goes by the documented name in both profiles.
      server.store.histogram('tuist_http_request_duration_nanosecond').record(3e6, { response_status: '200', request_method: 'GET', request_host: 'a' });
      const s2 = await scrape(server.url!);
      expect(value(s2, 'tuist_http_request_duration_nanoseconds_count', { request_host: 'a' })).to.equal(1);
    } finally {
      await Promise.all([docs.shutdown(), server.shutdown()]);
    }
  });
});

describe('core: high-cardinality labels are off by default and bounded when on', () => {
  it('drops object_key, upload_id and part_number by default', async () => {
    const t = startTelemetry(base);
    try {
      await t.ready();
      t.store.counter('tuist_storage_get_object_size_count').add(1, { object_key: 'a/b' });
      t.store.counter('tuist_storage_multipart_generate_upload_part_presigned_url_count').add(1, { object_key: 'k', upload_id: 'u', part_number: 3 });
      const exp = await scrape(t.url!);
      expect(samples(exp, 'tuist_storage_get_object_size_count')).to.deep.equal([{ name: 'tuist_storage_get_object_size_count', labels: {}, value: 1 }]);
      expect(samples(exp, 'tuist_storage_multipart_generate_upload_part_presigned_url_count')[0]!.labels).to.deep.equal({});
    } finally {
      await t.shutdown();
    }
  });

  it('keeps at most TUIST_TELEMETRY_MAX_LABEL_VALUES values per label and maps the rest to one overflow value', async () => {
    const t = startTelemetry({ ...base, env: { TUIST_TELEMETRY_HIGH_CARDINALITY_LABELS: 'all', TUIST_TELEMETRY_MAX_LABEL_VALUES: '100' } });
    const logged = captureDiag(diag);
    try {
      await t.ready();
      const h = t.store.histogram('tuist_storage_get_object_as_string_duration_milliseconds');
      for (let i = 0; i < 20_000; i++) h.record(i % 500, { object_key: `project/artifact-${i}` });
      const exp = await scrape(t.url!);
      const counts = samples(exp, 'tuist_storage_get_object_as_string_duration_milliseconds_count');
      expect(counts).to.have.length(101);
      expect(counts.reduce((a, s) => a + s.value, 0), 'nothing recorded is lost').to.equal(20_000);
      expect(value(exp, 'tuist_storage_get_object_as_string_duration_milliseconds_count', { object_key: '__overflow__' })).to.equal(19_900);
      expect(h.series.size).to.equal(101);
      expect(logged.lines).to.deep.equal([
        'warn: @tuist-telemetry/core tuist_storage_get_object_as_string_duration_milliseconds: label "object_key" reached 100 distinct values (TUIST_TELEMETRY_MAX_LABEL_VALUES); further values are recorded as "__overflow__"',
      ]);
    } finally {
      logged.restore();
      await t.shutdown();
    }
  });

  it('turns on only the listed labels', async () => {
    const t = startTelemetry({ ...base, highCardinalityLabels: ['upload_id'] });
    try {
      await t.ready();
      t.store.counter('tuist_storage_multipart_complete_upload_count').add(1, { object_key: 'k', upload_id: 'u1' });
      const exp = await scrape(t.url!);
      expect(samples(exp, 'tuist_storage_multipart_complete_upload_count')[0]!.labels).to.deep.equal({ upload_id: 'u1' });
    } finally {
      await t.shutdown();
    }
  });
});
