import { expect } from 'chai';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { getTelemetry, startTelemetry } from '@tuist-telemetry/core';
import {
  appSdkMetricsVersion,
  checkSupport,
  nodeSupported,
  resetSupportCheck,
  supportProblems,
} from '../src/telemetry/version-support.js';

describe('core: supported Node.js and OpenTelemetry JS lines', () => {
  afterEach(async () => {
    resetSupportCheck();
    await getTelemetry()?.shutdown();
  });

  it("Node ^20.20.0 || >=22.22.0, as the packages' engines say", () => {
    for (const v of ['20.20.0', '20.20.2', '22.22.0', '22.23.5', '24.22.3', '26.0.0'])
      expect(nodeSupported(v), v).to.equal(true);
    for (const v of ['18.20.4', '20.19.9', '21.7.3', '22.21.1', '22.15.0']) expect(nodeSupported(v), v).to.equal(false);
  });

  it('sdk-metrics 2.x from 2.12 on every supported Node, 3.x from 3.1 only from Node 22.22', () => {
    expect(supportProblems('20.20.2', '2.12.1')).to.deep.equal([]);
    expect(supportProblems('24.22.3', '3.1.0')).to.deep.equal([]);
    expect(supportProblems('22.23.5', '3.1.1')).to.deep.equal([]);
    expect(supportProblems('24.22.3', undefined), "no sdk-metrics of the app: core's own serves").to.deep.equal([]);
    expect(supportProblems('20.20.2', '3.1.0'))
      .to.have.length(1)
      .and.match(/3\.1\.0 does not run on Node\.js 20\.20\.2/);
    expect(supportProblems('24.22.3', '1.30.1')[0]).to.match(/1\.30\.1 is not a supported OpenTelemetry JS line/);
    expect(supportProblems('24.22.3', '2.10.0')[0]).to.match(/2\.10\.0 is not a supported/);
    expect(supportProblems('24.22.3', '4.0.0')[0]).to.match(/4\.0\.0 is not a supported/);
    expect(supportProblems('21.7.3', '2.12.1'))
      .to.have.length(1)
      .and.match(/Node\.js 21\.7\.3 is not a supported line \(supported: \^20\.20\.0 \|\| >=22\.22\.0\)/);
  });

  it('says an unsupported combination once per process, and never throws', () => {
    const said: string[] = [];
    const emit = (m: string): void => void said.push(m);
    expect(checkSupport({ node: '21.7.3', sdkMetrics: () => '1.30.1', emit })).to.have.length(2);
    checkSupport({ node: '21.7.3', sdkMetrics: () => '1.30.1', emit });
    expect(said).to.have.length(1);
    expect(said[0]).to.match(
      /^@tuist-telemetry: unsupported combination: Node\.js 21\.7\.3 .*; @opentelemetry\/sdk-metrics 1\.30\.1 .*expect failures\.$/,
    );
    expect(() =>
      checkSupport({
        node: '24.22.3',
        sdkMetrics: () => {
          throw new Error('broken resolver');
        },
        emit,
      }),
    ).to.not.throw();
  });

  it('reads the sdk-metrics version the app resolves', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'tuist-support-'));
    const empty = mkdtempSync(path.join(tmpdir(), 'tuist-support-empty-'));
    try {
      const pkg = path.join(dir, 'node_modules', '@opentelemetry', 'sdk-metrics');
      mkdirSync(pkg, { recursive: true });
      writeFileSync(
        path.join(pkg, 'package.json'),
        JSON.stringify({ name: '@opentelemetry/sdk-metrics', version: '3.1.0', main: 'index.js' }),
      );
      writeFileSync(path.join(pkg, 'index.js'), '');
      expect(appSdkMetricsVersion([dir])).to.equal('3.1.0');
      expect(appSdkMetricsVersion([empty]), 'nothing to resolve there').to.equal(undefined);
      expect(appSdkMetricsVersion([empty, dir]), 'the first folder that has one').to.equal('3.1.0');
    } finally {
      rmSync(dir, { recursive: true, force: true });
      rmSync(empty, { recursive: true, force: true });
    }
  });

  it("a start on this machine's supported line says nothing", async () => {
    const warnings: Error[] = [];
    const onWarning = (w: Error): void => void warnings.push(w);
    process.on('warning', onWarning);
    try {
      startTelemetry({ exporters: 'none', runtimeMetrics: false, setGlobalMeterProvider: false });
      await new Promise((r) => setImmediate(r));
      expect(warnings.filter((w) => /tuist-telemetry/.test(w.message))).to.deep.equal([]);
    } finally {
      process.off('warning', onWarning);
    }
  });
});

describe("core: an app API newer than core's (OpenTelemetry JS 3.x next to core's 2.x SDK)", () => {
  it("is a problem with core's own MeterProvider (startTelemetry), not with the host's (NodeSDK + createMetricReader)", () => {
    expect(supportProblems('24.22.3', '3.1.0', { app: '1.10.0', core: '1.9.0', host: false })[0]).to.match(
      /@opentelemetry\/api 1\.10\.0 is newer than .*\(1\.9\.0\).*use new NodeSDK\(\{ metricReaders: \[createMetricReader\(\)\] \}\)/,
    );
    expect(supportProblems('24.22.3', '3.1.0', { app: '1.10.0', core: '1.9.0', host: true })).to.deep.equal([]);
    expect(
      supportProblems('24.22.3', '3.1.0', { app: '1.10.0', core: '1.10.0', host: false }),
      'one copy',
    ).to.deep.equal([]);
    expect(
      supportProblems('20.20.2', '2.12.1', { app: '1.9.0', core: '1.10.0', host: false }),
      'an older app API reads newer globals',
    ).to.deep.equal([]);
  });
});
