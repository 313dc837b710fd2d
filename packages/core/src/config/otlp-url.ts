import type { Found } from '../settings/table.js';

/** A full OTLP URL: the option or the signal's variable as given, else the base variable plus `/v1/<signal>`. */
export function otlpUrl(f: Found | undefined, protocol: string, signal: string): string | undefined {
  if (f === undefined) return undefined;
  const v = f.value as string;
  if (f.source !== 'OTEL_EXPORTER_OTLP_ENDPOINT' || protocol === 'grpc') return v;
  return v.replace(/\/+$/, '') + `/v1/${signal}`;
}
