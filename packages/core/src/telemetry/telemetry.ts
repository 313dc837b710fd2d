import {
  context,
  metrics as otelMetrics,
  propagation,
  trace,
  type MeterProvider as ApiMeterProvider,
} from '@opentelemetry/api';
import { MeterProvider, type MetricReader, type PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import type { Resource } from '@opentelemetry/resources';
import type { AddressInfo } from 'node:net';
import { catalog, HIGH_CARDINALITY_LABELS, LABEL_OVERFLOW_METRIC, exposedName } from '../catalog/index.js';
import { boundPerInstrument, thirdPartyBoundView, thirdPartyOverflowReporter } from '../otel/third-party-bound.js';
import { ClusterPrimary, ClusterWorkerAgent, clusterRole } from '../cluster/index.js';
import { resolveConfig, type ResolvedConfig, type TelemetryOptions } from '../config/index.js';
import { installDefaultDiagLogger, logger, releaseDefaultDiagLogger, RateLimitedLogger } from '../diag/index.js';
import { pushReaders } from '../otel/exporters.js';
import { TuistMetrics } from '../recording/metrics.js';
import type { HostMetricReader } from '../otel/host-reader.js';
import { buildResource } from '../otel/resource.js';
import { startTracing, type Tracing } from '../otel/traces.js';
import { SCOPE, StoreMetricProducer } from '../otel/producer.js';
import { PullMetricReader } from '../prometheus/reader.js';
import { Poller } from '../recording/polling.js';
import { MetricsEndpoint } from '../prometheus/endpoint.js';
import { NATIVE_DEFAULTS } from '../store/native-histogram.js';
import { escapeLabelValue } from '../prometheus/format.js';
import { PrometheusRenderer } from '../prometheus/render.js';
import { startRuntimeMetrics } from '../runtime/index.js';
import { currentInstance, isRunning, setRunning } from './running.js';
import { apiCopies, checkSupport } from './version-support.js';
import { MetricStore } from '../store/store.js';

const log = logger('core');

/** A running telemetry instance: the store, the endpoint, the exporters and the recording API. */
export class Telemetry {
  /** The typed recording API for the Tuist server's own metrics. */
  readonly metrics: TuistMetrics;
  /**
   * The OpenTelemetry MeterProvider: instruments created on it are exported next to the catalog. Under
   * `createMetricReader()` it is the global one (the host's, e.g. NodeSDK's), since core then makes none of its own.
   */
  readonly meterProvider: ApiMeterProvider;
  /** Core's aggregation store (for the SDK's instrumentation packages: `store.counter(name).add(...)`). */
  readonly store: MetricStore;
  readonly config: Readonly<ResolvedConfig>;
  readonly resource: Resource;
  /** Rate-limited warnings shared by the SDK's packages. */
  readonly warnings: RateLimitedLogger;

  private readonly poller: Poller;
  private readonly endpoint: MetricsEndpoint | undefined;
  private readonly clusterPrimary: ClusterPrimary | undefined;
  private readonly clusterWorker: ClusterWorkerAgent | undefined;
  private readonly pullReader: MetricReader | undefined;
  /** Push readers core owns while the host's MeterProvider is the only one (`createMetricReader`). */
  private readonly hostPushReaders: PeriodicExportingMetricReader[] = [];
  /** @internal the reader `createMetricReader()` gave the host, when telemetry was started that way. */
  readonly hostReader: HostMetricReader | undefined;
  private readonly ownProvider: MeterProvider | undefined;
  /** The tracer provider `OTEL_TRACES_EXPORTER` asked for (not under `createMetricReader`: NodeSDK owns traces there). */
  private readonly tracing: Tracing | undefined;
  private readonly readyPromise: Promise<void>;
  private readonly shutdownHooks = new Set<() => unknown>();
  private readonly httpExclusions = new Set<(origin: string, path: string) => boolean>();
  private readonly stopRuntime: (() => void) | undefined;
  private address: AddressInfo | undefined;
  private shutdownPromise: Promise<void> | undefined;
  /** The Prometheus exposition (catalog, third-party instruments, target_info); concurrent renders share one body. */
  private readonly renderer: PrometheusRenderer;
  private ownsGlobal = false;

  /** @internal use `startTelemetry` (or `createMetricReader`, which passes the host's reader) */
  constructor(options?: TelemetryOptions, hostReader?: HostMetricReader) {
    // Before anything can fail: a busy port or a failing exporter must be seen when the host installed no logger.
    // With the host's reader (NodeSDK), only once its MeterProvider took the reader and NodeSDK registered its
    // globals: the first registration fixes the API version of the global registry, and on OpenTelemetry JS 3.x the
    // app's API (1.10) can differ from the one core resolves (the 2.x SDK's peer range stops below 1.10); a logger
    // registered first through core's would make NodeSDK's setGlobalMeterProvider fail (measured: the app's
    // instruments went to a no-op MeterProvider).
    const env = options?.env ?? process.env;
    if (hostReader) hostReader.whenBound(() => installDefaultDiagLogger(env));
    else installDefaultDiagLogger(env);
    const config = resolveConfig(options);
    this.config = config;
    this.warnings = new RateLimitedLogger(log);
    // Exponential OTLP histograms are made from native buckets: pushing them turns those on (with their defaults).
    const exponential =
      config.histogramAggregation === 'base2_exponential_bucket_histogram' &&
      config.exporters.some((e) => e !== 'prometheus');
    const nativeHistograms = config.nativeHistograms ?? (exponential ? NATIVE_DEFAULTS : undefined);
    // With runtime metrics off their families are left out, so no zero-valued process_*/nodejs_* series appear.
    const storeOptions = {
      naming: config.naming,
      highCardinality: new Set(HIGH_CARDINALITY_LABELS),
      enabledHighCardinality: config.highCardinality,
      maxLabelValues: config.maxLabelValues,
      maxSeriesPerMetric: config.maxSeriesPerMetric,
      // Native buckets are not carried by node:cluster snapshots (the primary's merged view has classic buckets
      // only), so a worker does not keep them.
      nativeHistograms: clusterRole(config.cluster.mode, env).kind === 'worker' ? undefined : nativeHistograms,
      warn: this.warnings,
    };
    this.store = new MetricStore(
      config.runtimeMetrics ? catalog : catalog.filter((d) => d.family !== 'runtime'),
      storeOptions,
    );
    this.poller = new Poller(config.pollIntervalMs, this.warnings);
    this.metrics = new TuistMetrics(this.store, this.poller, this.warnings);

    this.resource = buildResource(config, env);

    const readers = pushReaders(
      config,
      () => new StoreMetricProducer(this.store, config.temporalityPreference, exponential),
      this.warnings,
    );
    this.hostReader = hostReader;
    this.tracing = hostReader ? undefined : startTracing(config, this.resource, (m) => log.warn(m), this.warnings);
    if (hostReader) {
      // One MeterProvider in the process, the host's: core makes none, takes no global, and its push readers
      // collect the host's instruments through the host's reader (plus the catalog through `producer`).
      hostReader.attach({ shutdown: () => this.shutdown(), forceFlush: () => this.forceFlush() });
      if (config.exporters.includes('prometheus')) this.pullReader = hostReader;
      for (const r of readers) r.setMetricProducer(hostReader.producer(this.resource));
      this.hostPushReaders = readers;
      this.meterProvider = otelMetrics;
    } else {
      if (config.exporters.includes('prometheus')) this.pullReader = new PullMetricReader();
      const limits = { maxLabelValues: config.maxLabelValues, maxSeries: config.maxSeriesPerMetric };
      const bounds = {
        ...limits,
        onOverflow: thirdPartyOverflowReporter(this.store.counter(LABEL_OVERFLOW_METRIC), this.warnings, limits),
      };
      this.ownProvider = new MeterProvider({
        resource: this.resource,
        readers: this.pullReader ? [this.pullReader, ...readers] : readers,
        // The label policy's bound for third-party instruments, per instrument (otel/third-party-bound.ts).
        views: [thirdPartyBoundView(bounds)],
      });
      boundPerInstrument(this.ownProvider, bounds);
      this.meterProvider = this.ownProvider;
    }

    if (config.setGlobalMeterProvider && !hostReader) {
      // setGlobalMeterProvider refuses (and logs) when one is set already; only take it when free.
      const probe = otelMetrics.getMeterProvider() as ApiMeterProvider & { constructor: { name: string } };
      if (probe.constructor.name === 'NoopMeterProvider')
        this.ownsGlobal = otelMetrics.setGlobalMeterProvider(this.meterProvider);
    }

    this.store.gauge('tuist_application_info').set(1, {
      service_name: config.serviceName,
      version: config.serviceVersion ?? (env.npm_package_version || 'unknown'),
      node_version: process.versions.node,
    });
    this.stopRuntime = config.runtimeMetrics ? startRuntimeMetrics(this.store) : undefined;

    const role = clusterRole(config.cluster.mode, env);
    if (this.pullReader && role.kind === 'primary') {
      this.clusterPrimary = new ClusterPrimary(this.store, {
        timeoutMs: config.cluster.timeoutMs,
        warnings: this.warnings,
        storeOptions,
      });
    }
    const primary = this.clusterPrimary;
    this.renderer = new PrometheusRenderer({
      withScopeLabels: config.prometheus.withScopeLabels,
      withTargetInfo: config.prometheus.withTargetInfo,
      withCreated: config.prometheus.withCreated,
      store: this.store,
      resource: this.resource,
      scope: SCOPE,
      reader: this.pullReader,
      canCollect: () => this.hostReader === undefined || this.pullReader !== this.hostReader || this.hostReader.isBound,
      warnings: this.warnings,
      renderStore: primary ? (serialize) => primary.render(serialize) : undefined,
      withoutNative: config.nativeHistograms === undefined,
    });
    if (this.pullReader && role.kind === 'worker') {
      // A node:cluster worker binds no port: the primary asks it for snapshots and serves the cluster's /metrics.
      this.clusterWorker = new ClusterWorkerAgent(this.store, this.warnings);
      this.readyPromise = Promise.resolve();
    } else if (this.pullReader) {
      const p = config.prometheus;
      this.endpoint = new MetricsEndpoint({
        host: p.host,
        // A PM2 instance serves its own port (PM2's daemon is the primary and would share one port round-robin).
        port: role.kind === 'pm2' && p.port !== 0 ? p.port + role.instance : p.port,
        exclusive: role.kind === 'pm2',
        writeTimeoutMs: p.writeTimeoutMs,
        idleTimeoutMs: p.idleTimeoutMs,
        maxConcurrentScrapes: p.maxConcurrentScrapes,
        auth: p.auth,
        render: this.renderer.renderForResponse,
        release: this.renderer.release,
        renderGzip: this.renderer.renderGzip,
        onRenderError: (err) => this.warnings.error('scrape', '@tuist-telemetry/core: a scrape failed', err),
      });
      this.readyPromise = this.endpoint.listening.then(
        (a) => {
          this.address = a;
          if (isRunning(this)) setRunning(this, 'listening');
        },
        (err: Error) => {
          log.error(err.message);
          if (isRunning(this)) setRunning(this, 'failed');
          throw err;
        },
      );
      // ready() is optional: a port in use must not become an unhandled rejection in the host.
      this.readyPromise.catch(() => {});
    } else {
      this.readyPromise = Promise.resolve();
    }
  }

  /** Resolves when the Prometheus endpoint listens; rejects with an Error naming the port when it cannot. */
  ready(): Promise<void> {
    return this.readyPromise;
  }

  /** @internal whether this instance serves a Prometheus endpoint of its own. */
  get hasEndpoint(): boolean {
    return this.endpoint !== undefined;
  }

  /** The endpoint's bound port (useful with port 0), once `ready()` resolved. */
  get port(): number | undefined {
    return this.address?.port;
  }

  /** `http://host:port/metrics` once `ready()` resolved. */
  get url(): string | undefined {
    if (!this.address) return undefined;
    const host =
      this.address.family === 'IPv6'
        ? this.address.address === '::'
          ? '127.0.0.1'
          : `[${this.address.address}]`
        : this.address.address === '0.0.0.0'
          ? '127.0.0.1'
          : this.address.address;
    return `http://${host}:${this.address.port}/metrics`;
  }

  /** The documented (or server-profile) name a catalog metric is exported under. */
  nameOf(documentedName: string): string {
    const def = catalog.find((d) => d.name === documentedName);
    return def ? exposedName(def, this.config.naming) : documentedName;
  }

  /**
   * The exposition text a scrape returns (also used by tests and the demo): text 0.0.4, or OpenMetrics 1.0 with
   * `{ openMetrics: true }`. After `shutdown()` it still answers: the catalog as it stands and third-party
   * instruments as last collected.
   */
  async renderPrometheus(options?: { openMetrics?: boolean }): Promise<string> {
    return (await this.renderer.render(options?.openMetrics ? 'openmetrics' : 'text')).toString('utf8');
  }

  /**
   * Keeps matching outgoing requests out of the `tuist_http_*` metrics, whoever made them (the analytics package
   * registers PostHog's ingestion host here, so its own traffic is never measured). Returns an unregister function.
   */
  excludeFromHttpMetrics(matches: (origin: string, path: string) => boolean): () => void {
    this.httpExclusions.add(matches);
    return () => this.httpExclusions.delete(matches);
  }

  /** Whether a request is excluded by `excludeFromHttpMetrics`; a throwing predicate counts as "not excluded". */
  isExcludedFromHttpMetrics(origin: string, path: string): boolean {
    if (this.httpExclusions.size === 0) return false;
    for (const m of this.httpExclusions) {
      try {
        if (m(origin, path) === true) return true;
      } catch (err) {
        this.warnings.error(
          'http-exclusion',
          '@tuist-telemetry/core: an HTTP metrics exclusion threw; the request is measured',
          err,
        );
      }
    }
    return false;
  }

  /** Runs `fn` during `shutdown()`, before exporters flush (analytics uses it to flush PostHog). */
  onShutdown(fn: () => unknown): () => void {
    this.shutdownHooks.add(fn);
    return () => this.shutdownHooks.delete(fn);
  }

  /** Exports now through every push exporter (OTLP, console). */
  async forceFlush(): Promise<void> {
    await Promise.all([
      this.ownProvider ? this.ownProvider.forceFlush() : Promise.all(this.hostPushReaders.map((r) => r.forceFlush())),
      this.tracing?.provider.forceFlush(),
    ]);
  }

  /** Flushes push exporters, closes the endpoint, stops pollers. Idempotent: later calls return the same promise. */
  shutdown(): Promise<void> {
    releaseDefaultDiagLogger(); // what the default logger still holds is printed before a signal ends the process
    // From now on getTelemetry() answers another running instance (or none); recordings already made are flushed.
    if (this.shutdownPromise === undefined) setRunning(this, undefined);
    this.shutdownPromise ??= this.doShutdown();
    return this.shutdownPromise;
  }

  private async doShutdown(): Promise<void> {
    this.renderer.stopCollecting();
    this.poller.stop();
    // A worker's last values go to the primary before anything else stops.
    await this.clusterWorker?.stop();
    this.clusterPrimary?.close();
    this.stopRuntime?.();
    await Promise.allSettled([...this.shutdownHooks].map(async (fn) => fn()));
    const flush = this.ownProvider
      ? this.ownProvider.shutdown()
      : Promise.all(this.hostPushReaders.map((r) => r.shutdown()));
    this.tracing?.close();
    const spans = this.tracing?.global ? this.tracing.provider.shutdown() : this.tracing?.provider.forceFlush();
    await Promise.allSettled([
      this.endpoint?.close(),
      flush.catch((err) => log.error('flush on shutdown failed', err)),
      spans?.catch((err) => log.error('span flush on shutdown failed', err)),
    ]);
    if (this.ownsGlobal) otelMetrics.disable();
    if (this.tracing?.global) {
      // Lets a later telemetry (or the app) register again; these globals were ours.
      trace.disable();
      propagation.disable();
      context.disable();
    }
  }
}

/**
 * Starts telemetry: the Prometheus endpoint on 9091 (or the exporters `OTEL_METRICS_EXPORTER` names), the catalog,
 * runtime metrics. Options override the environment. Invalid options throw a TelemetryConfigError that says what
 * to change; a busy port does not throw (see `ready()`).
 */
export function startTelemetry(options?: TelemetryOptions): Telemetry {
  return startTelemetryWith(options);
}

/** @internal `startTelemetry`, optionally with the host's reader (see `createMetricReader`). */
export function startTelemetryWith(options: TelemetryOptions | undefined, hostReader?: HostMetricReader): Telemetry {
  checkSupport({ api: () => apiCopies(hostReader !== undefined) });
  const t = new Telemetry(options, hostReader);
  setRunning(t, t.hasEndpoint ? (t.port !== undefined ? 'listening' : 'pending') : 'none');
  return t;
}

/**
 * The telemetry that is running and serving, the one the SDK's instrumentations record into: the most recently
 * started instance that has not been shut down and whose Prometheus endpoint listens (or that has no endpoint).
 * A second `startTelemetry()` whose port is busy does not replace it; while a newer instance's endpoint is still
 * starting, an older one that serves keeps the answer; when the answer shuts down, the previous running instance
 * takes over. With no instance serving, the most recent running one (endpoint starting, else failed); none
 * running: undefined.
 */
export function getTelemetry(): Telemetry | undefined {
  return currentInstance() as Telemetry | undefined;
}

export { escapeLabelValue };
