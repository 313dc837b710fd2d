import { expect } from 'chai';
import net from 'node:net';
import { diag } from '@opentelemetry/api';
import { captureDiag, scrape, samples, value } from '@tuist-telemetry/testing';
import { startTelemetry, getTelemetry, TelemetryConfigError } from '@tuist-telemetry/core';

const base = { prometheus: { port: 0, host: '127.0.0.1' }, runtimeMetrics: false } as const;

describe('core: configuration errors throw at start-up with what to change', () => {
  const cases: [string, Parameters<typeof startTelemetry>[0], RegExp][] = [
    [
      'port out of range (option)',
      { ...base, prometheus: { port: 70000 } },
      /options\.prometheus\.port must be an integer from 0 to 65535, got 70000/,
    ],
    [
      'port not a number (env)',
      { env: { OTEL_EXPORTER_PROMETHEUS_PORT: 'abc' } },
      /OTEL_EXPORTER_PROMETHEUS_PORT must be an integer from 0 to 65535, got "abc"/,
    ],
    [
      'unknown naming profile (env)',
      { ...base, env: { TUIST_TELEMETRY_NAMING: 'elixir' } },
      /TUIST_TELEMETRY_NAMING: unknown naming profile "elixir"; valid values are docs, server/,
    ],
    [
      'unknown naming profile (option)',
      { ...base, naming: 'x' as never },
      /options\.naming: unknown naming profile "x"/,
    ],
    [
      'unknown exporter',
      { ...base, env: { OTEL_METRICS_EXPORTER: 'prometheus,zipkin' } },
      /OTEL_METRICS_EXPORTER: unknown exporter "zipkin"; valid values are prometheus, otlp, console, none/,
    ],
    [
      'unknown OTLP protocol',
      { ...base, env: { OTEL_METRICS_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: 'udp' } },
      /unknown protocol "udp"; valid values are http\/protobuf, http\/json, grpc/,
    ],
    [
      'unknown high-cardinality label',
      { ...base, env: { TUIST_TELEMETRY_HIGH_CARDINALITY_LABELS: 'object_key,user_id' } },
      /unknown label "user_id"; valid values are object_key, upload_id, part_number, all or none/,
    ],
    [
      'bad max label values',
      { ...base, env: { TUIST_TELEMETRY_MAX_LABEL_VALUES: '0' } },
      /TUIST_TELEMETRY_MAX_LABEL_VALUES must be an integer from 1/,
    ],
    [
      'bad runtime flag',
      { prometheus: base.prometheus, env: { TUIST_TELEMETRY_RUNTIME_METRICS: 'maybe' } },
      /TUIST_TELEMETRY_RUNTIME_METRICS must be true or false/,
    ],
  ];
  for (const [what, options, message] of cases) {
    it(what, () => {
      expect(() => startTelemetry(options)).to.throw(TelemetryConfigError, message);
    });
  }
});

describe('core: numbers and text from the environment are read strictly (issue 26)', () => {
  // Each would be a number to Number() or parseInt(); as a setting it is a mistake, named with its variable.
  for (const raw of ['1e3', ' 5x', '0x10', '5.0', '1_000', '+-5']) {
    it(`OTEL_METRIC_EXPORT_INTERVAL=${JSON.stringify(raw)} fails start-up naming the variable`, () => {
      expect(() => startTelemetry({ ...base, exporters: 'none', env: { OTEL_METRIC_EXPORT_INTERVAL: raw } })).to.throw(
        TelemetryConfigError,
        new RegExp(
          `^OTEL_METRIC_EXPORT_INTERVAL must be an integer from 1 to 2147483647, got ${JSON.stringify(JSON.stringify(raw.trim())).slice(1, -1).replace(/[+.]/g, '\\$&')} \\(decimal digits only\\)$`,
        ),
      );
    });
  }

  it('digits out of range name the range without the syntax hint; the error is a TelemetryConfigError by name too', () => {
    let err: Error | undefined;
    try {
      startTelemetry({ ...base, exporters: 'none', env: { OTEL_METRIC_EXPORT_INTERVAL: ' 0 ' } });
    } catch (e) {
      err = e as Error;
    }
    expect(err!.name).to.equal('TelemetryConfigError');
    expect(err!.message).to.equal('OTEL_METRIC_EXPORT_INTERVAL must be an integer from 1 to 2147483647, got "0"');
  });

  it('true/false variables take true, false, 1 or 0 in any case, blanks around', () => {
    for (const [raw, on] of [
      ['TRUE', true],
      [' 1 ', true],
      ['False', false],
      ['0', false],
    ] as const) {
      const t = startTelemetry({
        prometheus: base.prometheus,
        exporters: 'none',
        env: { TUIST_TELEMETRY_RUNTIME_METRICS: raw, TUIST_TELEMETRY_PROMETHEUS_TARGET_INFO: raw },
      });
      void t.shutdown();
      expect(t.config.runtimeMetrics, raw).to.equal(on);
      expect(t.config.prometheus.withTargetInfo, raw).to.equal(on);
    }
    expect(() =>
      startTelemetry({ prometheus: base.prometheus, env: { TUIST_TELEMETRY_RUNTIME_METRICS: 'yes' } }),
    ).to.throw(TelemetryConfigError, /^TUIST_TELEMETRY_RUNTIME_METRICS must be true or false, got "yes"$/);
  });

  it('the same for every integer variable (port, label values, poll interval, cluster timeout)', () => {
    for (const name of [
      'OTEL_EXPORTER_PROMETHEUS_PORT',
      'TUIST_TELEMETRY_MAX_LABEL_VALUES',
      'TUIST_TELEMETRY_POLL_INTERVAL_MS',
      'TUIST_TELEMETRY_CLUSTER_TIMEOUT_MS',
      'OTEL_METRIC_EXPORT_TIMEOUT',
    ]) {
      expect(
        () => startTelemetry({ ...base, exporters: 'none', prometheus: {}, env: { [name]: '0x10' } }),
        name,
      ).to.throw(TelemetryConfigError, new RegExp(`^${name} must be an integer`));
    }
  });

  it('decimal digits with surrounding blanks are a number', () => {
    const t = startTelemetry({
      ...base,
      exporters: 'none',
      env: { OTEL_METRIC_EXPORT_INTERVAL: ' 1500 ', TUIST_TELEMETRY_MAX_LABEL_VALUES: '007' },
    });
    expect(t.config.exportIntervalMs).to.equal(1500);
    expect(t.config.maxLabelValues).to.equal(7);
    return t.shutdown();
  });

  it('the sampler ratio takes decimal notation only', () => {
    const ratio = (arg: string) =>
      startTelemetry({
        ...base,
        exporters: 'none',
        env: { OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: arg },
      });
    for (const bad of ['0x1', '0b1', ' 5x', '1/2'])
      expect(() => ratio(bad), bad).to.throw(
        TelemetryConfigError,
        /^OTEL_TRACES_SAMPLER_ARG must be a ratio from 0 to 1/,
      );
    for (const [good, n] of [
      ['0.25', 0.25],
      ['.5', 0.5],
      ['1e-1', 0.1],
    ] as const) {
      const t = ratio(good);
      expect(t.config.traces.samplerArg, good).to.equal(n);
      void t.shutdown();
    }
  });

  it('a control character inside a variable fails start-up naming the variable and the character', () => {
    const cases: [string, string, string][] = [
      ['OTEL_SERVICE_NAME', 'api\nserver', 'U+000A at position 4'],
      ['OTEL_EXPORTER_PROMETHEUS_HOST', '127.0.0.1\u0000', 'U+0000 at position 10'],
      ['OTEL_EXPORTER_OTLP_ENDPOINT', 'http://collector\u001b[0m:4318', 'U+001B at position 17'],
      ['TUIST_TELEMETRY_NAMING', 'do\tcs', 'U+0009 at position 3'],
      ['OTEL_METRICS_EXPORTER', 'prometheus\u007f', 'U+007F at position 11'],
    ];
    for (const [name, raw, where] of cases) {
      let err: Error | undefined;
      try {
        void startTelemetry({ runtimeMetrics: false, prometheus: { port: 0 }, env: { [name]: raw } }).shutdown();
      } catch (e) {
        err = e as Error;
      }
      expect(err, name).to.be.instanceOf(TelemetryConfigError);
      expect(err!.message).to.equal(`${name} contains a control character (${where}); remove it`);
    }
  });

  it('blanks around a value (a trailing CR or newline from an env file) are trimmed, not an error', () => {
    const t = startTelemetry({
      ...base,
      exporters: 'none',
      env: { OTEL_SERVICE_NAME: ' api\r\n', TUIST_TELEMETRY_NAMING: 'server\n' },
    });
    expect(t.config.serviceName).to.equal('api');
    expect(t.config.naming).to.equal('server');
    return t.shutdown();
  });

  it('credentials with a control character fail start-up without echoing the secret', () => {
    for (const [env, name, secret] of [
      [{ TUIST_TELEMETRY_PROMETHEUS_BEARER_TOKEN: 'abc\u0000def' }, 'TUIST_TELEMETRY_PROMETHEUS_BEARER_TOKEN', 'abc'],
      [
        { TUIST_TELEMETRY_PROMETHEUS_BASIC_AUTH: 'user:s3\ncret' },
        'TUIST_TELEMETRY_PROMETHEUS_BASIC_AUTH (password)',
        's3',
      ],
      [
        { TUIST_TELEMETRY_PROMETHEUS_BASIC_AUTH: 'us\u007fer:s3cret' },
        'TUIST_TELEMETRY_PROMETHEUS_BASIC_AUTH (user)',
        's3cret',
      ],
    ] as const) {
      let err: Error | undefined;
      try {
        void startTelemetry({ ...base, env }).shutdown();
      } catch (e) {
        err = e as Error;
      }
      expect(err, name).to.be.instanceOf(TelemetryConfigError);
      expect(err!.message).to.match(
        new RegExp(`^${name.replace(/[()]/g, '\\$&')} must be a non-empty string without .*control characters$`),
      );
      expect(err!.message).to.not.contain(secret);
    }
    // A space is fine in a password, never in a token.
    const t = startTelemetry({ ...base, env: { TUIST_TELEMETRY_PROMETHEUS_BASIC_AUTH: 'user:pass word' } });
    expect(t.config.prometheus.auth!.basic!.password).to.equal('pass word');
    void t.shutdown();
    expect(() => startTelemetry({ ...base, env: { TUIST_TELEMETRY_PROMETHEUS_BEARER_TOKEN: 'abc def' } })).to.throw(
      TelemetryConfigError,
      /spaces or control characters/,
    );
  });
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
    const t = startTelemetry({
      runtimeMetrics: false,
      env: { OTEL_EXPORTER_PROMETHEUS_HOST: '127.0.0.1', OTEL_EXPORTER_PROMETHEUS_PORT: String(port) },
    });
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
      expect(server.nameOf('tuist_http_request_duration_nanosecond')).to.equal(
        'tuist_http_request_duration_nanoseconds',
      );
      // Recording goes by the documented name in both profiles.
      server.store
        .histogram('tuist_http_request_duration_nanosecond')
        .record(3e6, { response_status: '200', request_method: 'GET', request_host: 'a' });
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
      t.store
        .counter('tuist_storage_multipart_generate_upload_part_presigned_url_count')
        .add(1, { object_key: 'k', upload_id: 'u', part_number: 3 });
      const exp = await scrape(t.url!);
      expect(samples(exp, 'tuist_storage_get_object_size_count')).to.deep.equal([
        { name: 'tuist_storage_get_object_size_count', labels: {}, value: 1 },
      ]);
      expect(samples(exp, 'tuist_storage_multipart_generate_upload_part_presigned_url_count')[0]!.labels).to.deep.equal(
        {},
      );
    } finally {
      await t.shutdown();
    }
  });

  it('keeps at most TUIST_TELEMETRY_MAX_LABEL_VALUES values per label and maps the rest to one overflow value', async () => {
    const t = startTelemetry({
      ...base,
      env: { TUIST_TELEMETRY_HIGH_CARDINALITY_LABELS: 'all', TUIST_TELEMETRY_MAX_LABEL_VALUES: '100' },
    });
    const logged = captureDiag(diag);
    try {
      await t.ready();
      const h = t.store.histogram('tuist_storage_get_object_as_string_duration_milliseconds');
      for (let i = 0; i < 20_000; i++) h.record(i % 500, { object_key: `project/artifact-${i}` });
      const exp = await scrape(t.url!);
      const counts = samples(exp, 'tuist_storage_get_object_as_string_duration_milliseconds_count');
      expect(counts).to.have.length(101);
      expect(
        counts.reduce((a, s) => a + s.value, 0),
        'nothing recorded is lost',
      ).to.equal(20_000);
      expect(
        value(exp, 'tuist_storage_get_object_as_string_duration_milliseconds_count', { object_key: '__overflow__' }),
      ).to.equal(19_900);
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
      expect(samples(exp, 'tuist_storage_multipart_complete_upload_count')[0]!.labels).to.deep.equal({
        upload_id: 'u1',
      });
    } finally {
      await t.shutdown();
    }
  });
});
