import { expect } from 'chai';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { scrape, value } from '@tuist-telemetry/testing';
import { coreDir, fixturePath, startApp, underRegister, type ChildApp } from '../helpers/index.js';

const app = fixturePath('register-app.ts');

/** The app under register with `env` on top of the runner's environment. */
const start = (env: Record<string, string>): ChildApp => startApp(underRegister(app), { cwd: coreDir, env });

describe('core: node --import @tuist-telemetry/core/register', () => {
  it('starts from the environment alone and exits on SIGTERM like an uninstrumented host would', async () => {
    // Port 0: the app says where the endpoint listens (a free port passed on could be taken before it binds).
    const p = start({ OTEL_EXPORTER_PROMETHEUS_PORT: '0', OTEL_EXPORTER_PROMETHEUS_HOST: '127.0.0.1' });
    const url = await p.ready;
    expect(url).to.match(/^http:\/\/127\.0\.0\.1:[1-9]\d*\/metrics$/);
    const exp = await scrape(url);
    expect(value(exp, 'tuist_runs_total', { name: 'registered' })).to.equal(1);
    p.child.kill('SIGTERM');
    const { signal } = await p.exit;
    expect(signal, p.output()).to.equal('SIGTERM');
  });

  it('flushes push exporters on SIGTERM and leaves the host its own handler', async () => {
    const received: string[] = [];
    const rx = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        received.push(body);
        res.writeHead(200, { 'Content-Type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((r) => rx.listen(0, '127.0.0.1', r));
    const rxPort = (rx.address() as AddressInfo).port;
    try {
      const p = start({
        OTEL_METRICS_EXPORTER: 'otlp',
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
        OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${rxPort}`,
        OTEL_METRIC_EXPORT_INTERVAL: '600000',
        HOST_HANDLES_SIGTERM: '1',
      });
      await p.ready;
      p.child.kill('SIGTERM');
      const { code } = await p.exit;
      expect(code, p.output()).to.equal(7);
      expect(p.output()).to.contain('host handled SIGTERM');
      expect(received.some((b) => b.includes('"tuist_runs_total"'))).to.equal(true);
    } finally {
      rx.close();
    }
  });
});
