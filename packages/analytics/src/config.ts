import { installDefaultDiagLogger, logger } from '@tuist-telemetry/core/internal';
import type { AnalyticsOptions } from './types.js';
import { defaultScriptSrc } from './html.js';

/** A configuration mistake; thrown by `createAnalytics` with what to change. */
export class AnalyticsConfigError extends Error {
  override name = 'AnalyticsConfigError';
}

export interface ResolvedAnalyticsConfig {
  enabled: boolean;
  apiKey: string | undefined;
  /** Host without trailing slash. */
  host: string | undefined;
  /** `scheme://host[:port]` of `host`. */
  origin: string | undefined;
  scriptSrc: string | undefined;
  maxQueueSize: number;
  flushAt: number;
  flushIntervalMs: number;
  requestTimeoutMs: number;
  fetchRetryCount: number;
  fetchRetryDelayMs: number;
  shutdownTimeoutMs: number;
  maxRememberedUsers: number;
}

function nonEmpty(v: string | undefined): string | undefined {
  const t = typeof v === 'string' ? v.trim() : undefined;
  return t ? t : undefined;
}

function integer(source: string, raw: unknown, min: number, max: number, fallback: number): number {
  if (raw === undefined) return fallback;
  if (typeof raw !== 'number' || !Number.isInteger(raw) || raw < min || raw > max) {
    throw new AnalyticsConfigError(
      `createAnalytics: ${source} must be an integer from ${min} to ${max}, got ${JSON.stringify(raw)}`,
    );
  }
  return raw;
}

function httpUrl(source: string, raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new AnalyticsConfigError(
      `${source} must be an absolute http(s) URL such as https://eu.i.posthog.com, got ${JSON.stringify(raw)}`,
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new AnalyticsConfigError(`${source} must use http or https, got ${JSON.stringify(raw)}`);
  }
  return url;
}

const MAX_MS = 2 ** 31 - 1;

const halfConfiguredWarned = new Set<string>();

/** Only one of the two PostHog settings: analytics stays off, and says so once per process (a typo, usually). */
function warnHalfConfigured(missingKey: boolean, env: Readonly<Record<string, string | undefined>>): void {
  const [set, missing] = missingKey
    ? ['TUIST_POSTHOG_URL (options.host)', 'TUIST_POSTHOG_API_KEY (options.apiKey)']
    : ['TUIST_POSTHOG_API_KEY (options.apiKey)', 'TUIST_POSTHOG_URL (options.host)'];
  if (halfConfiguredWarned.has(missing)) return;
  halfConfiguredWarned.add(missing);
  installDefaultDiagLogger(env);
  logger('analytics').warn(`${set} is set but ${missing} is not: analytics is off until both are set`);
}

export function resolveConfig(options: AnalyticsOptions = {}): ResolvedAnalyticsConfig {
  if (options === null || typeof options !== 'object')
    throw new AnalyticsConfigError('createAnalytics(options): options must be an object');
  const env = options.env ?? process.env;
  const apiKey = nonEmpty(options.apiKey) ?? nonEmpty(env.TUIST_POSTHOG_API_KEY);
  const rawHost = nonEmpty(options.host) ?? nonEmpty(env.TUIST_POSTHOG_URL);
  const hostSource = nonEmpty(options.host) ? 'options.host' : 'TUIST_POSTHOG_URL';
  const url = rawHost === undefined ? undefined : httpUrl(hostSource, rawHost);
  const host = url ? rawHost!.replace(/\/+$/, '') : undefined;

  const scriptSrc = nonEmpty(options.scriptSrc);
  if (scriptSrc !== undefined && !/^(https?:\/\/|\/)/.test(scriptSrc)) {
    throw new AnalyticsConfigError(
      `options.scriptSrc must be an absolute http(s) URL or a path starting with "/", got ${JSON.stringify(options.scriptSrc)}`,
    );
  }

  const flushAt = integer('options.flushAt', options.flushAt, 1, 10_000, 20);
  const maxQueueSize = integer('options.maxQueueSize', options.maxQueueSize, 1, 10_000_000, 1000);
  if (maxQueueSize < flushAt) {
    throw new AnalyticsConfigError(
      `createAnalytics: options.maxQueueSize (${maxQueueSize}) must be at least options.flushAt (${flushAt})`,
    );
  }

  if ((apiKey === undefined) !== (host === undefined)) warnHalfConfigured(apiKey === undefined, env);

  return {
    enabled: apiKey !== undefined && host !== undefined,
    apiKey,
    host,
    origin: url?.origin,
    scriptSrc: scriptSrc ?? (host ? defaultScriptSrc(host) : undefined),
    maxQueueSize,
    flushAt,
    flushIntervalMs: integer('options.flushIntervalMs', options.flushIntervalMs, 1, MAX_MS, 5000),
    requestTimeoutMs: integer('options.requestTimeoutMs', options.requestTimeoutMs, 1, MAX_MS, 3000),
    fetchRetryCount: integer('options.fetchRetryCount', options.fetchRetryCount, 0, 100, 2),
    fetchRetryDelayMs: integer('options.fetchRetryDelayMs', options.fetchRetryDelayMs, 0, MAX_MS, 500),
    shutdownTimeoutMs: integer('options.shutdownTimeoutMs', options.shutdownTimeoutMs, 0, MAX_MS, 5000),
    maxRememberedUsers: integer('options.maxRememberedUsers', options.maxRememberedUsers, 0, 10_000_000, 10_000),
  };
}
