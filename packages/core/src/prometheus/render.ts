import type { MetricReader, ResourceMetrics } from '@opentelemetry/sdk-metrics';
import type { Resource } from '@opentelemetry/resources';
import type { RateLimitedLogger } from '../diag/index.js';
import { fixResourceMetrics, type FixOptions } from '../labels/attributes.js';
import type { EscapingScheme } from '../labels/escaping.js';
import { RENDER_ERRORS_METRIC } from '../catalog/exposition.js';
import { CounterFamily, type MetricStore } from '../store/store.js';
import { textToOpenMetrics, type ExpositionFormat } from './format.js';
import { serializeStoreProtobufAsync } from './protobuf.js';
import { gzipBody, gzipStoreMembers } from './compress.js';
import { MemberStream } from './gzip-stream.js';
import { BodyLeases } from './body-leases.js';
import { storeTextExposition, type SerializeOptions } from './serialize.js';
import { encodeThirdParty } from './third-party-protobuf.js';
import { writeThirdPartyText } from './third-party-text.js';
import { ThirdPartyWriter } from './third-party.js';

/** The instrumentation scope of the catalog (the `otel_scope_*` labels when scope labels are on). */
export interface CatalogScope {
  name: string;
  version: string;
}

export interface RendererOptions {
  /** `otel_scope_name`/`otel_scope_version` labels on every sample. */
  withScopeLabels: boolean;
  /** A `target_info` series with the resource attributes. */
  withTargetInfo: boolean;
  /** `_created` samples of counters and histograms in OpenMetrics. */
  withCreated: boolean;
  store: MetricStore;
  /** The resource of `target_info`. */
  resource: Resource;
  scope: CatalogScope;
  /** Collects third-party instruments (core's pull reader or the host's); undefined: catalog only. */
  reader: MetricReader | undefined;
  /** Whether `reader` can collect now (a host reader nobody has bound yet cannot). */
  canCollect: () => boolean;
  warnings: RateLimitedLogger;
  /** Leave the store's native buckets out of protobuf scrapes (kept for OTLP exponential histograms only). */
  withoutNative?: boolean;
  /** Writes the catalog part: `serialize(store)` by default; the cluster primary passes its merged view instead. */
  renderStore?: <T>(serialize: (store: MetricStore) => Promise<T>) => Promise<T>;
}

/**
 * The Prometheus exposition of one telemetry: catalog (fast writer, serialize.ts) followed by third-party instruments
 * (stock serializer, third-party.ts) and `target_info` when asked for. Concurrent renders share one body. After
 * `stopCollecting()` (shutdown) it keeps answering: the catalog as it stands, third-party metrics as last collected.
 */
export class PrometheusRenderer {
  private readonly thirdParty: ThirdPartyWriter;
  /** The label policy's options for third-party attributes; the same for every scrape. */
  private readonly fixOptions: FixOptions;
  /** The catalog's scope label text (`otel_scope_name="…",…`) when scope labels are on. */
  private readonly scopeLabels: string | undefined;
  /** The last collection of third-party instruments, labelled by the label policy (undefined: none yet). */
  private lastThirdParty: ResourceMetrics | undefined;
  /** The same collection as collected, for the label policy of a scrape that asks for a name escaping scheme. */
  private lastRaw: ResourceMetrics['scopeMetrics'] = [];
  /** The catalog's scope labels as pairs, for the protobuf writer. */
  private readonly scopePairs: [string, string][] | undefined;
  private collecting = true;
  /** One single-flight render per format and escaping scheme asked for (at most 3 x 5). */
  private readonly flights = new Map<string, () => Promise<Buffer>>();
  /**
   * The exposition as UTF-8 bytes in `format`, third-party names escaped as `escaping` says (undefined: as the stock
   * serializer names them); concurrent calls for one format and scheme share one render.
   */
  readonly render = (format: ExpositionFormat = 'text', escaping?: EscapingScheme): Promise<Buffer> =>
    this.flight(format, escaping).then((body) => this.bodies.pin(body));
  /**
   * `render` for a response, which calls `release(body)` once it is closed: until then the body is not written into
   * again, after that its buffer may be (body-leases.ts).
   */
  readonly renderForResponse = (format: ExpositionFormat = 'text', escaping?: EscapingScheme): Promise<Buffer> =>
    this.flight(format, escaping).then((body) => this.bodies.lease(body));
  readonly release = (body: Buffer): void => this.bodies.release(body);
  private readonly bodies = new BodyLeases();
  private flight(format: ExpositionFormat, escaping: EscapingScheme | undefined): Promise<Buffer> {
    const key = escaping === undefined ? format : format + ';' + escaping;
    let flight = this.flights.get(key);
    if (flight === undefined) {
      flight = singleFlight(() => this.renderOnce(format, escaping));
      this.flights.set(key, flight);
    }
    return flight();
  }
  /** The gzip body being produced per format, shared by the scrapes that arrive meanwhile. */
  private readonly gzipStreams = new Map<ExpositionFormat, MemberStream>();
  /**
   * The exposition in `format` as gzip members (compress.ts) that come as they are compressed (gzip-stream.ts), names
   * as the stock serializer gives them (no `escaping=`: a scrape asking for a scheme gets `render`'s body streamed
   * through gzip); concurrent calls for one format share one render. Settles once the first member is in.
   */
  readonly renderGzip = (format: ExpositionFormat = 'text'): Promise<MemberStream> => {
    let stream = this.gzipStreams.get(format);
    if (stream === undefined) {
      const s = new MemberStream();
      stream = s;
      this.gzipStreams.set(format, s);
      const produced =
        format === 'protobuf'
          ? // Protobuf is cut into members after its render (shared with the plain scrapes), not cached.
            this.render('protobuf').then(async (body) => {
              for (const m of await gzipBody(body)) s.push(m);
            })
          : this.renderText(format, undefined, (store, opts, tail) => gzipStoreMembers(store, opts, tail, s));
      void produced
        .then(
          () => s.end(),
          (err: unknown) => s.fail(err),
        )
        .finally(() => {
          if (this.gzipStreams.get(format) === s) this.gzipStreams.delete(format);
        });
    }
    const shared = stream;
    return shared.started.then(() => shared);
  };

  constructor(private readonly opts: RendererOptions) {
    const reserved = new Set(
      opts.store.families.flatMap((f) =>
        f.def.type === 'histogram' ? [f.name, `${f.name}_bucket`, `${f.name}_sum`, `${f.name}_count`] : [f.name],
      ),
    );
    if (opts.withTargetInfo) reserved.add('target_info');
    this.thirdParty = new ThirdPartyWriter({
      reserved,
      withScopeLabels: opts.withScopeLabels,
      withTargetInfo: opts.withTargetInfo,
      skipped: (name) =>
        opts.warnings.warn(
          `skip:${name}`,
          `@tuist-telemetry/core: metric "${name}" was not exported (name collision or unsupported aggregation)`,
        ),
      failed: this.familyFailed,
    });
    this.fixOptions = {
      reservedLabels: opts.withScopeLabels ? ['otel_scope_name', 'otel_scope_version'] : [],
      report: (metric, kind, detail) =>
        opts.warnings.warn(`attr-${kind}:${metric}`, `@tuist-telemetry/core: metric "${metric}": ${detail}`),
    };
    this.scopeLabels = opts.withScopeLabels
      ? `otel_scope_name="${opts.scope.name}",otel_scope_version="${opts.scope.version}"`
      : undefined;
    this.scopePairs = opts.withScopeLabels
      ? [
          ['otel_scope_name', opts.scope.name],
          ['otel_scope_version', opts.scope.version],
        ]
      : undefined;
  }

  /**
   * Series of a catalog family (text formats), or a whole family (protobuf, third-party, a family's own part: `series`
   * undefined), the writer could not write were left out of the scrape (the rest is served): one diag error per
   * metric per minute, and `tuist_telemetry_render_errors_total{metric}` counts each scrape that left some out.
   */
  private readonly familyFailed = (name: string, err: unknown, series?: number): void => {
    try {
      const counter = this.opts.store.families.find((f) => f.name === RENDER_ERRORS_METRIC);
      if (counter instanceof CounterFamily) counter.add(1, { metric: name });
      this.opts.warnings.error(
        `render:${name}`,
        series === undefined
          ? `@tuist-telemetry/core: metric "${name}" could not be written and was left out of the scrape`
          : `@tuist-telemetry/core: ${series} series of metric "${name}" could not be written and ${series === 1 ? 'was' : 'were'} left out of the scrape (its other series were served)`,
        err,
      );
    } catch {
      // A diag logger that throws must not turn the skipped family into a failed scrape.
    }
  };

  /** From now on the reader is not asked again (it is shutting down); the last collection stands. */
  stopCollecting(): void {
    this.collecting = false;
  }

  /**
   * Third-party metrics (and target_info, from this telemetry's resource) labelled for the exposition. The one place
   * the label policy (labels/attributes.ts) runs before the writers: every attribute becomes a valid, unique label.
   */
  private fix(scopeMetrics: ResourceMetrics['scopeMetrics']): ResourceMetrics {
    return fixResourceMetrics({ resource: this.opts.resource, scopeMetrics }, this.fixOptions);
  }

  private async collectThirdParty(): Promise<ResourceMetrics> {
    // Detectors that finish asynchronously (host) must have settled before target_info reads the attributes.
    if (this.opts.resource.asyncAttributesPending) await this.opts.resource.waitForAsyncAttributes?.();
    const reader = this.opts.reader;
    if (reader && this.collecting && this.opts.canCollect()) {
      try {
        const { resourceMetrics, errors } = await reader.collect();
        for (const e of errors)
          this.opts.warnings.error('collect', '@tuist-telemetry/core: an instrument failed during collection', e);
        this.lastThirdParty = this.fix(resourceMetrics.scopeMetrics);
        this.lastRaw = resourceMetrics.scopeMetrics;
      } catch (err) {
        // A reader shut down meanwhile says "MetricReader is shutdown": expected, the last collection stands.
        if (this.collecting) {
          this.opts.warnings.error(
            'collect',
            '@tuist-telemetry/core: third-party instruments could not be collected; serving their last values',
            err,
          );
        }
      }
    }
    // Before the first collection (or without a reader) target_info is still served when asked for.
    return (this.lastThirdParty ??= this.fix([]));
  }

  private async renderOnce(format: ExpositionFormat, escaping: EscapingScheme | undefined): Promise<Buffer> {
    if (format === 'protobuf') return this.renderProtobuf(escaping);
    const into = this.bodies.take();
    return this.renderText(format, escaping, (store, opts, tail) => storeTextExposition(store, opts, tail, into));
  }

  /** The third-party collection, under the label policy of `escaping` when one is asked for (catalog names never change). */
  private async collectFor(escaping: EscapingScheme | undefined): Promise<ResourceMetrics> {
    const collected = await this.collectThirdParty();
    if (escaping === undefined) return collected;
    return fixResourceMetrics(
      { resource: this.opts.resource, scopeMetrics: this.lastRaw },
      { ...this.fixOptions, escaping },
    );
  }

  /** Text 0.0.4 or OpenMetrics: the catalog through `write` (whole bytes or gzip members), third-party as its tail. */
  private async renderText<T>(
    format: 'text' | 'openmetrics',
    escaping: EscapingScheme | undefined,
    write: (store: MetricStore, opts: SerializeOptions, tail: string) => Promise<T>,
  ): Promise<T> {
    const collected = await this.collectFor(escaping);
    const { store } = this.opts;
    const { withScopeLabels, withTargetInfo } = this.opts;
    let tail: string;
    if (escaping !== undefined) {
      const selected = this.thirdParty.selectText(collected, escaping);
      tail = writeThirdPartyText(collected, selected, {
        escaping,
        format,
        withScopeLabels,
        withTargetInfo,
        failed: this.familyFailed,
      });
    } else {
      const thirdParty = this.thirdParty.write(collected);
      tail = format === 'openmetrics' ? textToOpenMetrics(thirdParty) + '# EOF\n' : thirdParty;
    }
    store.runCollectCallbacks();
    const withCreated = this.opts.withCreated;
    const serialize = (s: MetricStore) =>
      write(s, { scopeLabels: this.scopeLabels, format, familyFailed: this.familyFailed, withCreated }, tail);
    return this.opts.renderStore ? this.opts.renderStore(serialize) : serialize(store);
  }

  private async renderProtobuf(escaping: EscapingScheme | undefined): Promise<Buffer> {
    const collected = await this.collectFor(escaping);
    const { store } = this.opts;
    const { withScopeLabels, withTargetInfo } = this.opts;
    const selected = this.thirdParty.select(collected, escaping);
    const tail = encodeThirdParty(collected, selected, {
      withScopeLabels,
      withTargetInfo,
      failed: this.familyFailed,
      escaping,
    });
    store.runCollectCallbacks();
    const serialize = (s: MetricStore) =>
      serializeStoreProtobufAsync(
        s,
        { scopeLabels: this.scopePairs, familyFailed: this.familyFailed, withoutNative: this.opts.withoutNative },
        tail,
      );
    return this.opts.renderStore ? this.opts.renderStore(serialize) : serialize(store);
  }
}

/**
 * Wraps an async function so that calls made while one is in progress share its result instead of starting another:
 * 20 concurrent scrapes cost one render and hold one body.
 */
export function singleFlight<T>(fn: () => Promise<T>): () => Promise<T> {
  let inFlight: Promise<T> | undefined;
  return () => {
    if (inFlight === undefined) {
      inFlight = fn().finally(() => {
        inFlight = undefined;
      });
    }
    return inFlight;
  };
}
