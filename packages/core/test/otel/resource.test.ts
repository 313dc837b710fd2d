import { expect } from 'chai';
import { scrape, samples } from '@tuist-telemetry/testing';
import { startTelemetry, TelemetryConfigError, type Telemetry } from '@tuist-telemetry/core';
import {
  startApp,
  otlpReceiver,
  protobufMetricNames,
  protobufResources,
  coreDir,
  fixturePath,
  underRegister,
} from '../helpers/index.js';

const instance = fixturePath('otlp-instance.mjs');
const registerApp = fixturePath('register-app.ts');
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

async function targetInfo(
  env: Record<string, string>,
  extra: Parameters<typeof startTelemetry>[0] = {},
): Promise<Record<string, string>> {
  let t: Telemetry | undefined;
  try {
    t = startTelemetry({
      runtimeMetrics: false,
      prometheus: { port: 0, host: '127.0.0.1', withTargetInfo: true },
      env,
      ...extra,
    });
    await t.ready();
    const found = samples(await scrape(t.url!), 'target_info');
    expect(found).to.have.length(1);
    return found[0]!.labels;
  } finally {
    await t?.shutdown();
  }
}

describe('core: resource identity (service.instance.id, OTEL_NODE_RESOURCE_DETECTORS)', () => {
  it('three instances pushing to one OTLP receiver stay three distinct streams', async () => {
    const rx = await otlpReceiver();
    try {
      const env = {
        OTEL_METRICS_EXPORTER: 'otlp',
        OTEL_EXPORTER_OTLP_ENDPOINT: rx.url,
        OTEL_METRIC_EXPORT_INTERVAL: '600000',
        OTEL_SERVICE_NAME: 'fleet',
      };
      const apps = [1, 2, 3].map(() => startApp([instance], { cwd: coreDir, env }));
      await Promise.all(apps.map((a) => a.ready));
      expect(rx.received).to.have.length(3);
      const ids = rx.received.map((r) => {
        expect(r.contentType).to.equal('application/x-protobuf');
        expect(protobufMetricNames(r.body)).to.include('tuist_runs_total');
        const [attrs] = protobufResources(r.body);
        expect(attrs!['service.name']).to.equal('fleet');
        return attrs!['service.instance.id'];
      });
      for (const id of ids) expect(id).to.match(UUID);
      expect(new Set(ids).size, 'one id per process').to.equal(3);
    } finally {
      await rx.close();
    }
  });

  it('target_info carries service.instance.id by default; OTEL_RESOURCE_ATTRIBUTES or the option set it', async () => {
    expect((await targetInfo({})).service_instance_id).to.match(UUID);
    expect(
      (await targetInfo({ OTEL_RESOURCE_ATTRIBUTES: 'service.instance.id=pod-7,deployment.environment=prod' }))
        .service_instance_id,
    ).to.equal('pod-7');
    expect((await targetInfo({}, { serviceInstanceId: 'from-option' })).service_instance_id).to.equal('from-option');
  });

  it('under --import …/register (the real process.env): service.instance.id of OTEL_RESOURCE_ATTRIBUTES wins over the random one', async () => {
    // The runner's own OTEL_*/TUIST_* variables must not leak into the app.
    const env: Record<string, string | undefined> = {};
    for (const k of Object.keys(process.env)) if (/^(OTEL_|TUIST_)/.test(k)) env[k] = undefined;
    Object.assign(env, {
      OTEL_RESOURCE_ATTRIBUTES: 'service.instance.id=pod-7,deployment.environment=prod',
      OTEL_EXPORTER_PROMETHEUS_HOST: '127.0.0.1',
      OTEL_EXPORTER_PROMETHEUS_PORT: '0',
      TUIST_TELEMETRY_PROMETHEUS_TARGET_INFO: 'true',
    });
    const app = startApp(underRegister(registerApp), { cwd: coreDir, env });
    try {
      const url = await app.ready;
      const found = samples(await scrape(url), 'target_info');
      expect(found, app.output()).to.have.length(1);
      expect(found[0]!.labels.service_instance_id).to.equal('pod-7');
      expect(found[0]!.labels.deployment_environment).to.equal('prod');
    } finally {
      await app.stop();
    }
  });

  it('OTEL_NODE_RESOURCE_DETECTORS selects the stock detectors: none, all, a list; an unknown one fails start-up', async () => {
    const none = await targetInfo({ OTEL_NODE_RESOURCE_DETECTORS: 'none' });
    expect(none).to.not.have.property('service_instance_id');
    expect(none.service_name).to.equal('tuist-server');
    const all = await targetInfo({ OTEL_NODE_RESOURCE_DETECTORS: 'all' });
    for (const k of ['service_instance_id', 'host_name', 'os_type', 'process_pid']) expect(all, k).to.have.property(k);
    const some = await targetInfo({ OTEL_NODE_RESOURCE_DETECTORS: 'os, host' });
    expect(some).to.have.property('os_type');
    expect(some).to.not.have.property('process_pid');
    expect(some).to.not.have.property('service_instance_id');
    expect(() => startTelemetry({ env: { OTEL_NODE_RESOURCE_DETECTORS: 'env,gcp' } })).to.throw(
      TelemetryConfigError,
      /OTEL_NODE_RESOURCE_DETECTORS.*"gcp".*env, host, os, process, serviceinstance/,
    );
  });
});
