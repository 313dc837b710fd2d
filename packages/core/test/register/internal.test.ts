import { expect } from 'chai';
import { diag, DiagLogLevel } from '@opentelemetry/api';
import { startTelemetry, type Telemetry } from '@tuist-telemetry/core';
import {
  activeTelemetry,
  callHook,
  counter,
  gauge,
  histogram,
  perTelemetry,
  reportFailure,
} from '@tuist-telemetry/core/internal';

describe('core/internal: what the sibling packages share', () => {
  const started: Telemetry[] = [];
  const start = (): Telemetry => {
    // No exporter (an empty list would mean the default: Prometheus on :9091, maybe busy on a shared machine).
    const t = startTelemetry({ exporters: 'none', runtimeMetrics: false });
    started.push(t);
    return t;
  };
  afterEach(async () => {
    await Promise.all(started.splice(0).map((t) => t.shutdown()));
    diag.disable();
  });

  it('family handles are typed from the catalog: a misspelled or mistyped name does not compile', () => {
    const t = start();
    expect(counter(t, 'tuist_repo_query_count').name).to.equal('tuist_repo_query_count');
    expect(gauge(t, 'tuist_repo_pool_size').name).to.equal('tuist_repo_pool_size');
    expect(histogram(t, 'tuist_repo_query_total_time_milliseconds').name).to.equal(
      'tuist_repo_query_total_time_milliseconds',
    );
    // The type check (scripts/checks/typecheck.test.ts) fails if any of these compiles.
    // @ts-expect-error misspelled
    expect(() => counter(t, 'tuist_repo_query_cont')).to.throw(/not a counter/);
    // @ts-expect-error a histogram is not a counter
    expect(() => counter(t, 'tuist_repo_query_total_time_milliseconds')).to.throw(/not a counter/);
  });

  it('activeTelemetry: the explicit one, else the running one at the time of the call', async () => {
    expect(activeTelemetry()).to.equal(undefined);
    const a = start();
    expect(activeTelemetry()).to.equal(a);
    const b = start();
    expect(activeTelemetry()).to.equal(b);
    expect(activeTelemetry(a)).to.equal(a);
    await b.shutdown();
    expect(activeTelemetry()).to.equal(a); // getTelemetry(): the previous running instance takes over
    await a.shutdown();
    expect(activeTelemetry()).to.equal(undefined);
  });

  it('perTelemetry: one value per instance, made on first use', () => {
    let made = 0;
    const of = perTelemetry((t) => ({ t, n: ++made }));
    const a = start();
    const b = start();
    expect(of(a)).to.equal(of(a));
    expect(of(a).t).to.equal(a);
    expect(of(b).n).to.equal(2);
    expect(made).to.equal(2);
  });

  it('callHook: the hook result, or the fallback with one warning per kind when it throws; reportFailure never throws', () => {
    const t = start();
    const logged: string[] = [];
    diag.setLogger(
      {
        error: (...a: unknown[]) => logged.push(a.join(' ')),
        warn: (...a: unknown[]) => logged.push(a.join(' ')),
        info: () => {},
        debug: () => {},
        verbose: () => {},
      },
      { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true },
    );
    expect(callHook('k', 'hook', () => 'value', 'fallback', t)).to.equal('value');
    const boom = (): string => {
      throw new Error('boom');
    };
    expect(callHook('k', 'the poolName option', boom, 'fallback', t)).to.equal('fallback');
    expect(callHook('k', 'the poolName option', boom, 'fallback', t)).to.equal('fallback');
    expect(logged.filter((l) => l.includes('the poolName option threw'))).to.have.length(1);
    diag.setLogger(
      {
        error: () => {
          throw new Error('logger broke');
        },
        warn: () => {},
        info: () => {},
        debug: () => {},
        verbose: () => {},
      },
      { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true },
    );
    expect(() => reportFailure('x', 'failed', new Error('e'), t)).not.to.throw();
  });
});
