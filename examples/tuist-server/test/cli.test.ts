import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseOptions, DemoOptionsError } from '../src/options.js';
import { tracesRequested } from '../src/spans.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const env: NodeJS.ProcessEnv = { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' };
delete env.NODE_OPTIONS;
const demo = (...args: string[]) =>
  spawnSync(
    process.execPath,
    ['--import', 'tsx', '--conditions=source', 'examples/tuist-server/src/main.ts', ...args],
    { cwd: root, env, encoding: 'utf8', timeout: 60_000 },
  );

describe('examples: the demo command line', function () {
  this.timeout(90_000);

  it('reads flags over the environment and keeps port 0', () => {
    const o = parseOptions(['--port', '0', '--metrics-port=9300', '--no-load'], {
      PORT: '8081',
      OTEL_EXPORTER_PROMETHEUS_PORT: '9200',
      DEMO_LOAD_INTERVAL_MS: '75',
      S3_ENDPOINT: ' ',
    })!;
    expect(o).to.include({
      port: 0,
      metricsPort: 9300,
      load: false,
      loadIntervalMs: 75,
      s3Endpoint: undefined,
      s3Bucket: 'tuist',
      host: '127.0.0.1',
    });
    expect(parseOptions([], { PORT: '8081' })!.port).to.equal(8081);
    expect(parseOptions(['--help'], {})).to.equal(undefined);
    expect(() => parseOptions(['--port', '70000'], {})).to.throw(DemoOptionsError, /--port must be a port number/);
    expect(() => parseOptions([], { PORT: 'http' })).to.throw(DemoOptionsError, /PORT must be a port number/);
    expect(() => parseOptions(['--load-interval-ms', '0'], {})).to.throw(DemoOptionsError, /positive integer/);
    expect(() => parseOptions(['--port'], {})).to.throw(DemoOptionsError, /--port needs a value/);
  });

  it('--help documents OTEL_TRACES_EXPORTER; traces are on for any exporter listed, unless none is listed too', () => {
    const r = demo('--help');
    expect(r.status, r.stderr).to.equal(0);
    expect(r.stdout).to.include('OTEL_TRACES_EXPORTER=otlp').and.include('exemplar-storage');
    expect(tracesRequested({})).to.equal(false);
    expect(tracesRequested({ OTEL_TRACES_EXPORTER: 'none' })).to.equal(false);
    expect(tracesRequested({ OTEL_TRACES_EXPORTER: ' ' })).to.equal(false);
    expect(tracesRequested({ OTEL_TRACES_EXPORTER: 'otlp' })).to.equal(true);
    expect(tracesRequested({ OTEL_TRACES_EXPORTER: 'console,none' })).to.equal(false);
    expect(tracesRequested({ OTEL_TRACES_EXPORTER: 'otlp,console' })).to.equal(true);
  });

  it('an unknown OTEL_TRACES_EXPORTER exits 1 listing the valid values, before starting any service', () => {
    const r = spawnSync(
      process.execPath,
      [
        '--import',
        'tsx',
        '--conditions=source',
        'examples/tuist-server/src/main.ts',
        '--port',
        '0',
        '--metrics-port',
        '0',
      ],
      {
        cwd: root,
        env: { ...env, OTEL_TRACES_EXPORTER: 'zipkin' },
        encoding: 'utf8',
        timeout: 60_000,
      },
    );
    expect(r.status, r.stdout + r.stderr).to.equal(1);
    expect(r.stderr).to.include('OTEL_TRACES_EXPORTER').and.include('zipkin').and.include('otlp');
    expect(r.stdout).to.not.include('PostgreSQL');
  });

  it('an unknown option exits 2 with the usage', () => {
    const r = demo('--bogus');
    expect(r.status).to.equal(2);
    expect(r.stderr).to.include('unknown option "--bogus"').and.include('Usage: npm run demo');
  });

  it('a busy /metrics port exits 1 saying which port and what to change, before starting any service', async () => {
    const busy: Server = createServer();
    await new Promise<void>((r) => busy.listen(0, '127.0.0.1', r));
    const port = (busy.address() as { port: number }).port;
    try {
      const r = demo('--metrics-port', String(port), '--port', '0');
      expect(r.status, r.stdout + r.stderr).to.equal(1);
      expect(r.stderr).to.include(`${port}`).and.include('--metrics-port');
      expect(r.stdout).to.not.include('PostgreSQL');
    } finally {
      busy.close();
    }
  });
});
