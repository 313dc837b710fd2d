import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { diag } from '@opentelemetry/api';
import { captureDiag, scrape, samples, value, type Exposition } from '@tuist-telemetry/testing';
import { startTelemetry, type Telemetry } from '@tuist-telemetry/core';
import {
  B1,
  catalog,
  logger,
  MAX_LABEL_VALUE_LENGTH,
  MetricStore,
  OVERFLOW_VALUE,
  RateLimitedLogger,
  type MetricDefinition,
} from '@tuist-telemetry/core/internal';

// The recording fast paths (compiled per-family label lookup, binary bucket search) and the byte serialiser must
// give exactly what the general paths give: these tests pin the observable results through a real scrape.
describe('core: recording and scrape fast paths behave like the general paths', () => {
  let t: Telemetry;
  let exp: Exposition;
  const runs = 'tuist_runs_total';
  const duration = 'tuist_runs_duration_milliseconds';
  let warnings: string[] = [];

  before(async () => {
    const logged = captureDiag(diag);
    t = startTelemetry({
      prometheus: { port: 0, host: '127.0.0.1' },
      runtimeMetrics: false,
      setGlobalMeterProvider: false,
      highCardinalityLabels: ['object_key'],
      // Every label is bounded: room for the run names below, and an overflow of object_key.
      maxLabelValues: 8,
    });
    await t.ready();
    const c = t.store.counter(runs);
    // Same series whichever path a call takes: string values (fast path once the series exists), numbers and
    // booleans (normalised on the general path).
    for (let i = 0; i < 3; i++) c.add(1, { name: 'build', is_ci: 'true', status: '0' });
    c.add(1, { name: 'build', is_ci: true, status: 0 } as unknown as Record<string, string>);
    // A missing label becomes "unknown", on every call (the fast path must not answer for it).
    c.add(1, { name: 'test', is_ci: 'false' });
    c.add(1, { name: 'test', is_ci: 'false' });
    c.add(1, { name: 'test', is_ci: 'false', status: 'unknown' });
    // A value over the length limit is truncated to the same series each time.
    const long = 'x'.repeat(MAX_LABEL_VALUE_LENGTH + 10);
    c.add(1, { name: long, is_ci: 'false', status: '1' });
    c.add(1, { name: long, is_ci: 'false', status: '1' });
    // Optional labels: unset, null and '' are one series without the label.
    const conn = t.store.counter('tuist_repo_pool_db_connection_connected');
    conn.add(1, { repo: 'primary' });
    conn.add(1, { repo: 'primary' });
    conn.add(1);
    conn.add(1, { repo: '' });
    conn.add(1, { repo: null });
    // Bounded label: eight values, then overflow; known values keep their own series after the overflow.
    const size = t.store.histogram('tuist_storage_get_object_size_size_bytes');
    for (const key of ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'a', 'i', 'j', 'b']) size.record(1, { object_key: key });
    // Bucket edges: each bound is inclusive (le), 0 goes to the first bucket, above the last bound only to +Inf.
    const h = t.store.histogram(duration);
    const labels = { name: 'edges', is_ci: 'false', status: '0' };
    h.record(0, labels);
    for (const b of B1) h.record(b, labels);
    h.record(B1[0]! + 0.5, labels);
    h.record(B1[B1.length - 1]! + 1, labels);
    exp = await scrape(t.url!);
    logged.restore();
    warnings = logged.lines;
  });

  after(async () => {
    await t.shutdown();
  });

  it('warns once for each kind of bad label (missing, too long, past the bound)', () => {
    expect(warnings).to.deep.equal([
      'warn: @tuist-telemetry/core tuist_runs_total: label "status" is missing; recorded as "unknown"',
      `warn: @tuist-telemetry/core tuist_runs_total: a value of label "name" is longer than ${MAX_LABEL_VALUE_LENGTH} characters; it was truncated`,
      'warn: @tuist-telemetry/core tuist_storage_get_object_size_size_bytes: label "object_key" reached 8 distinct values (TUIST_TELEMETRY_MAX_LABEL_VALUES); further values are recorded as "__overflow__"',
    ]);
  });

  it('counts string, number and boolean label values into one series', () => {
    expect(value(exp, runs, { name: 'build', is_ci: 'true', status: '0' })).to.equal(4);
  });

  it('records a missing label as "unknown" and truncates over-long values, whichever path a call takes', () => {
    expect(value(exp, runs, { name: 'test', is_ci: 'false', status: 'unknown' })).to.equal(3);
    expect(value(exp, runs, { name: 'x'.repeat(MAX_LABEL_VALUE_LENGTH), is_ci: 'false', status: '1' })).to.equal(2);
  });

  it('keeps unset, null and empty optional labels in one series without the label', () => {
    const all = samples(exp, 'tuist_repo_pool_db_connection_connected');
    expect(all.find((s) => s.labels.repo === 'primary')?.value).to.equal(2);
    expect(all.find((s) => s.labels.repo === undefined)?.value).to.equal(3);
    expect(all).to.have.length(2);
  });

  it('still overflows a bounded label and keeps known values apart', () => {
    const n = 'tuist_storage_get_object_size_size_bytes_count';
    expect(value(exp, n, { object_key: 'a' })).to.equal(2);
    expect(value(exp, n, { object_key: 'b' })).to.equal(2);
    expect(value(exp, n, { object_key: OVERFLOW_VALUE })).to.equal(2);
  });

  it('puts values on a bound into that bucket (le is inclusive) and cumulates them', () => {
    const labels = { name: 'edges', is_ci: 'false', status: '0' };
    // Recorded: 0, every bound, 100.5 (in (100, 200]) and one above the last bound.
    expect(value(exp, `${duration}_bucket`, { ...labels, le: '100' })).to.equal(2);
    expect(value(exp, `${duration}_bucket`, { ...labels, le: '200' })).to.equal(4);
    B1.forEach((b, i) =>
      expect(value(exp, `${duration}_bucket`, { ...labels, le: String(b) }), `le=${b}`).to.equal(i === 0 ? 2 : i + 3),
    );
    expect(value(exp, `${duration}_bucket`, { ...labels, le: '+Inf' })).to.equal(B1.length + 3);
    expect(value(exp, `${duration}_count`, labels)).to.equal(B1.length + 3);
    const total = B1.reduce((a, b) => a + b, 0) + B1[0]! + 0.5 + B1[B1.length - 1]! + 1;
    expect(value(exp, `${duration}_sum`, labels)).to.equal(total);
  });

  it('puts every value in the bucket a plain scan finds, for every bucket layout of the catalog', () => {
    const layouts = new Map<string, readonly number[]>();
    for (const d of catalog) if (d.type === 'histogram') layouts.set(JSON.stringify(d.buckets ?? []), d.buckets ?? []);
    layouts.set('[]', []);
    for (const [key, bounds] of layouts) {
      const def: MetricDefinition = {
        name: 'bench_layout',
        type: 'histogram',
        family: 'test',
        description: 'x',
        labels: [],
        buckets: bounds,
      };
      const store = new MetricStore([def], {
        naming: 'docs',
        highCardinality: new Set(),
        enabledHighCardinality: new Set(),
        maxLabelValues: 10,
        warn: new RateLimitedLogger(logger('test')),
      });
      const h = store.histogram('bench_layout');
      const expected = new Array<number>(bounds.length + 1).fill(0);
      const values = [
        0,
        ...bounds,
        ...bounds.map((b) => b + 0.5),
        ...bounds.map((b) => b - 0.5).filter((v) => v >= 0),
        1e18,
      ];
      for (let k = 0; k < 200; k++) values.push(Math.exp((((k * 7919) % 1000) / 1000) * Math.log(2e11)));
      for (const v of values) {
        let i = 0;
        while (i < bounds.length && v > bounds[i]!) i++;
        expected[i]!++;
        h.record(v);
      }
      const [series] = h.series;
      expect(Array.from(series!.counts), key).to.deep.equal(expected);
    }
  });

  it('serves the exposition bytes the text form decodes from, with an exact Content-Length (non-ASCII labels too)', async () => {
    t.store.counter(runs).add(1.5, { name: 'générer "ü"\\\n', is_ci: 'false', status: '0' });
    // Uncompressed (fetch asks for gzip by default, which is streamed without a Content-Length).
    const res = await fetch(t.url!, { headers: { 'accept-encoding': 'identity' } });
    const bytes = Buffer.from(await res.arrayBuffer());
    expect(Number(res.headers.get('content-length'))).to.equal(bytes.length);
    const text = await t.renderPrometheus();
    expect(bytes.toString('utf8')).to.equal(text);
    expect(text).to.include('tuist_runs_total{name="générer \\"ü\\"\\\\\\n",is_ci="false",status="0"} 1.5\n');
    expect(text).to.include(`${duration}_bucket{name="edges",is_ci="false",status="0",le="+Inf"} ${B1.length + 3}\n`);
  });

  it('lets the event loop run while it writes a large exposition, and still writes every series whole', async () => {
    const big = startTelemetry({
      prometheus: { port: 0, host: '127.0.0.1' },
      runtimeMetrics: false,
      setGlobalMeterProvider: false,
      highCardinalityLabels: ['object_key'],
      maxLabelValues: 5000,
    });
    try {
      await big.ready();
      const h = big.store.histogram('tuist_storage_get_object_size_size_bytes');
      for (let i = 0; i < 2000; i++) h.record(i, { object_key: `cache/tuist/ios-app/builds/${i}/artifact.zip` }); // ~4 MB
      const exp = await scrape(big.url!);
      let ranDuringRender = false;
      const rendering = big.renderPrometheus();
      setImmediate(() => (ranDuringRender = true));
      const text = await rendering;
      expect(ranDuringRender, 'an immediate scheduled after the render started ran before it finished').to.equal(true);
      expect(samples(exp, 'tuist_storage_get_object_size_size_bytes_count')).to.have.length(2000);
      expect(text.match(/^tuist_storage_get_object_size_size_bytes_bucket\{/gm)).to.have.length(2000 * (B1.length + 1));
    } finally {
      await big.shutdown();
    }
  });

  it('records the same where code generation from strings is disallowed (general path only)', () => {
    const here = path.dirname(fileURLToPath(import.meta.url));
    const script = `
      import { startTelemetry } from '@tuist-telemetry/core';
      const t = startTelemetry({ prometheus: { port: 0, host: '127.0.0.1' }, runtimeMetrics: false, setGlobalMeterProvider: false });
      const c = t.store.counter('tuist_runs_total');
      for (let i = 0; i < 3; i++) c.add(2, { name: 'build', is_ci: 'true', status: '0' });
      let blocked = false;
      try { new Function('return 1'); } catch { blocked = true; }
      const body = await t.renderPrometheus();
      console.log(JSON.stringify({ blocked, line: body.split('\\n').find((l) => l.startsWith('tuist_runs_total{')) }));
      await t.shutdown();
    `;
    const r = spawnSync(
      process.execPath,
      [
        '--disallow-code-generation-from-strings',
        '--import',
        'tsx',
        '--conditions=source',
        '--input-type=module',
        '-e',
        script,
      ],
      {
        cwd: here,
        encoding: 'utf8',
      },
    );
    expect(r.status, r.stderr).to.equal(0);
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as { blocked: boolean; line: string };
    expect(out.blocked).to.equal(true);
    expect(out.line).to.equal('tuist_runs_total{name="build",is_ci="true",status="0"} 6');
  });
});
