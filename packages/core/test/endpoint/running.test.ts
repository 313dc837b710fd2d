import { expect } from 'chai';
import { diag } from '@opentelemetry/api';
import { captureDiag, scrape, value } from '@tuist-telemetry/testing';
import { getTelemetry, startTelemetry, type Telemetry, type TelemetryOptions } from '@tuist-telemetry/core';

const base: TelemetryOptions = { runtimeMetrics: false, setGlobalMeterProvider: false, env: {} };
const onPort = (port: number): TelemetryOptions => ({ ...base, prometheus: { port, host: '127.0.0.1' } });

describe('core: getTelemetry() answers the running telemetry that serves (issue 15 item 6)', () => {
  const started: Telemetry[] = [];
  const start = (o: TelemetryOptions): Telemetry => {
    const t = startTelemetry(o);
    started.push(t);
    return t;
  };
  before(() => diag.disable());
  afterEach(async () => {
    await Promise.all(started.splice(0).map((t) => t.shutdown()));
    expect(getTelemetry()).to.equal(undefined);
  });

  it('a second startTelemetry() whose port is busy never replaces the one that serves', async () => {
    const a = start(onPort(0));
    await a.ready();
    const logged = captureDiag(diag);
    const b = start(onPort(a.port!));
    // While b's endpoint is still starting, a (which serves) keeps the answer.
    expect(getTelemetry()).to.equal(a);
    let failed = false;
    await b.ready().catch(() => (failed = true));
    logged.restore();
    expect(failed).to.equal(true);
    expect(logged.matching(/^error: .*cannot listen on 127\.0\.0\.1:/), logged.lines.join('\n')).to.have.length(1);
    expect(getTelemetry()).to.equal(a);
    // What records through getTelemetry() lands where Prometheus scrapes.
    getTelemetry()!.metrics.recordRun({ name: 'served', isCi: false, status: 0 });
    expect(value(await scrape(a.url!), 'tuist_runs_total', { name: 'served' })).to.equal(1);
    // Shutting the failed one down changes nothing.
    await b.shutdown();
    expect(getTelemetry()).to.equal(a);
  });

  it('the most recent serving instance answers; shutting it down hands over to the previous one', async () => {
    const a = start(onPort(0));
    const b = start(onPort(0));
    await Promise.all([a.ready(), b.ready()]);
    expect(getTelemetry()).to.equal(b);
    const c = start(onPort(0));
    expect(getTelemetry(), 'c is not listening yet').to.equal(b);
    await c.ready();
    expect(getTelemetry()).to.equal(c);
    // Shutting down one that is not the answer leaves the answer alone.
    await b.shutdown();
    expect(getTelemetry()).to.equal(c);
    const stopping = c.shutdown();
    expect(getTelemetry(), 'handed over as soon as shutdown() is called').to.equal(a);
    await stopping;
    expect(getTelemetry()).to.equal(a);
    await a.shutdown();
    expect(getTelemetry()).to.equal(undefined);
  });

  it('an instance without an endpoint serves (push exporters); one whose port is busy is the answer only when nothing serves', async () => {
    const a = start(onPort(0));
    await a.ready();
    const logged = captureDiag(diag);
    const lone = start(onPort(a.port!));
    await lone.ready().catch(() => {});
    logged.restore();
    expect(logged.matching(/^error: .*cannot listen on 127\.0\.0\.1:/), logged.lines.join('\n')).to.have.length(1);
    await a.shutdown();
    // Nothing serves: the busy one still records (and its push exporters would export), so it is the answer.
    expect(getTelemetry()).to.equal(lone);
    const push = start({ ...base, exporters: ['none'] });
    expect(getTelemetry()).to.equal(push);
    await push.shutdown();
    expect(getTelemetry()).to.equal(lone);
  });

  it('a single instance is the answer right away, before its endpoint listens', async () => {
    const t = start(onPort(0));
    expect(getTelemetry()).to.equal(t);
    await t.ready();
    expect(getTelemetry()).to.equal(t);
  });
});
