import { expect } from 'chai';
import http from 'node:http';
import { createServer, type Server } from 'node:net';
import type { AddressInfo } from 'node:net';
import { freePort } from '@tuist-telemetry/testing';
import { startApp, type ChildApp, coreDir, fixturePath, hostEnv, underRegister } from '../helpers/index.js';

const app = fixturePath('diag-app.ts');

/** The app under register in a host that configured nothing about logging. */
function run(env: Record<string, string>): ChildApp {
  return startApp(underRegister(app), { cwd: coreDir, env: hostEnv(env) });
}

async function listen(server: Server | http.Server): Promise<number> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return (server.address() as AddressInfo).port;
}

/** Lines the app wrote to stderr, read after it exited (startApp merges both streams; stdout lines are known). */
function stderrLines(p: ChildApp): string[] {
  return p
    .output()
    .split('\n')
    .filter((l) => l !== '' && l !== 'READY up' && !l.startsWith('OWN '));
}

describe('core: failures are visible by default through a diag logger core installs (issue 15 item 8)', () => {
  const apps: ChildApp[] = [];
  let busy: Server;
  let busyPort: number;
  let notOtlp: http.Server;
  let notOtlpPort: number;
  before(async () => {
    busy = createServer();
    busyPort = await listen(busy);
    // Answers every request with 404: an OTLP endpoint at the wrong path, or something else entirely.
    notOtlp = http.createServer((_req, res) => res.writeHead(404).end('not here'));
    notOtlpPort = await listen(notOtlp);
  });
  afterEach(async () => {
    await Promise.all(apps.splice(0).map((a) => a.stop()));
  });
  after(() => {
    busy.close();
    notOtlp.close();
  });
  const started = (env: Record<string, string>): ChildApp => {
    const p = run(env);
    apps.push(p);
    return p;
  };

  it('a busy port under --import …/register prints one line on stderr and the app keeps running', async () => {
    const p = started({ OTEL_EXPORTER_PROMETHEUS_PORT: String(busyPort) });
    await p.ready;
    const [line] = await p.line(/error: .*cannot listen on 127\.0\.0\.1:(\d+).*\n/);
    expect(line).to.contain(String(busyPort));
    p.child.kill('SIGTERM');
    await p.exit;
    expect(
      stderrLines(p).filter((l) => l.includes('cannot listen')),
      p.output(),
    ).to.have.length(1);
  });

  it('OTLP to a refused port prints an export error, once per kind however often it fails', async () => {
    const refused = await freePort();
    const p = started({
      OTEL_METRICS_EXPORTER: 'otlp',
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${refused}`,
      OTEL_METRIC_EXPORT_INTERVAL: '100',
    });
    await p.ready;
    // The first refused attempt is reported at once, as one line naming the URL, the protocol and the variables.
    const [line] = await p.line(/error: .*(ECONNREFUSED|export).*\n/);
    expect(line).to.contain(
      `OTLP metrics export to http://127.0.0.1:${refused}/v1/metrics failed: connection refused (ECONNREFUSED)`,
    );
    expect(line)
      .to.contain('set by OTEL_EXPORTER_OTLP_ENDPOINT')
      .and.contain('the protocol, http/json, is set by OTEL_EXPORTER_OTLP_PROTOCOL');
    // Several more exports fail meanwhile; the same error is not printed again within the minute.
    await new Promise((r) => setTimeout(r, 1000));
    p.child.kill('SIGKILL');
    await p.exit;
    expect(
      stderrLines(p).filter((l) => /ECONNREFUSED|export/.test(l)),
      p.output(),
    ).to.have.length(1);
  });

  it('OTLP to an endpoint that is not OTLP (HTTP 404) prints an export error', async () => {
    const p = started({
      OTEL_METRICS_EXPORTER: 'otlp',
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${notOtlpPort}`,
      OTEL_METRIC_EXPORT_INTERVAL: '100',
    });
    await p.ready;
    const [line] = await p.line(/error: .*\n/);
    expect(line, p.output()).to.match(/404|Not Found|export/i);
  });

  it('OTEL_LOG_LEVEL=none prints nothing for the same failures', async () => {
    const refused = await freePort();
    const p = started({
      OTEL_LOG_LEVEL: 'none',
      OTEL_EXPORTER_PROMETHEUS_PORT: String(busyPort),
      OTEL_METRICS_EXPORTER: 'prometheus,otlp',
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${refused}`,
      OTEL_METRIC_EXPORT_INTERVAL: '100',
    });
    await p.ready;
    await new Promise((r) => setTimeout(r, 800));
    p.child.kill('SIGTERM');
    await p.exit;
    expect(stderrLines(p), p.output()).to.deep.equal([]);
  });

  it('an OTEL_LOG_LEVEL that is not a level, or holds a control character, warns once and logs at warn; the app runs', async () => {
    for (const [level, says] of [
      ['loud', 'OTEL_LOG_LEVEL="loud" is not a level (none, error, warn, info, debug, verbose, all); using warn'],
      ['de\u001bbug', 'OTEL_LOG_LEVEL contains a control character (U+001B at position 3); remove it'],
    ]) {
      const p = started({ OTEL_LOG_LEVEL: level!, OTEL_EXPORTER_PROMETHEUS_PORT: String(busyPort) });
      await p.ready;
      const [busyLine] = await p.line(new RegExp(`${busyPort}.*\\n`));
      expect(busyLine, 'the busy port is still reported (warn level)').to.be.a('string');
      p.child.kill('SIGTERM');
      await p.exit;
      const lines = stderrLines(p);
      expect(
        lines.filter((l) => l.includes(says!)),
        p.output(),
      ).to.have.length(1);
    }
  });

  it('OTEL_LOG_LEVEL is read as OpenTelemetry reads it: trimmed and in any case (" NONE " prints nothing)', async () => {
    const p = started({ OTEL_LOG_LEVEL: ' NONE ', OTEL_EXPORTER_PROMETHEUS_PORT: String(busyPort) });
    await p.ready;
    await new Promise((r) => setTimeout(r, 300));
    p.child.kill('SIGTERM');
    await p.exit;
    expect(stderrLines(p), p.output()).to.deep.equal([]);
  });

  it("the host's own diag logger wins: failures go to it, and core's default prints nothing", async () => {
    const refused = await freePort();
    // The only export is the app's, after it installed its logger: with a short interval, the first periodic export
    // could fail before the app (loaded after register) installs it, and core's default would rightly print that.
    const p = started({
      OWN_LOGGER: '1',
      FLUSH: '1',
      OTEL_METRICS_EXPORTER: 'otlp',
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${refused}`,
      OTEL_METRIC_EXPORT_INTERVAL: '600000',
    });
    await p.ready;
    const [line] = await p.line(/OWN error .*(ECONNREFUSED|export).*\n/);
    expect(line).to.contain(
      `OTLP metrics export to http://127.0.0.1:${refused}/v1/metrics failed: connection refused (ECONNREFUSED)`,
    );
    p.child.kill('SIGKILL');
    await p.exit;
    expect(stderrLines(p), p.output()).to.deep.equal([]);
  });

  it("a start-up failure before the host's logger is set goes to that logger, not to stderr (issue 24 item 8)", async () => {
    // The host sets its logger only after the endpoint failed to listen: the failure surely came first, as it does
    // when the host's modules take longer to load than the failure takes to happen (a busy machine).
    const p = started({ OWN_LOGGER: 'after-start', OTEL_EXPORTER_PROMETHEUS_PORT: String(busyPort) });
    await p.ready;
    const [line] = await p.line(/OWN error .*cannot listen.*\n/);
    expect(line).to.contain(String(busyPort));
    p.child.kill('SIGTERM');
    await p.exit;
    expect(stderrLines(p), p.output()).to.deep.equal([]);
  });

  it('what the default logger still holds is printed when a signal ends the app during the hold', async () => {
    const p = started({ WAIT_START: '1', OTEL_EXPORTER_PROMETHEUS_PORT: String(busyPort) });
    await p.ready; // the endpoint has failed by now, well within the hold
    p.child.kill('SIGTERM');
    const { signal } = await p.exit;
    expect(signal, p.output()).to.equal('SIGTERM');
    expect(
      stderrLines(p).filter((l) => l.includes('cannot listen')),
      p.output(),
    ).to.have.length(1);
  });
});
