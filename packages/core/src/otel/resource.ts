import {
  defaultResource,
  detectResources,
  envDetector,
  hostDetector,
  osDetector,
  processDetector,
  resourceFromAttributes,
  serviceInstanceIdDetector,
  type Resource,
  type ResourceDetector,
} from '@opentelemetry/resources';
import type { ResolvedConfig, ResourceDetectorName } from '../config/index.js';
import { found } from '../settings/table.js';

const DETECTORS: Record<ResourceDetectorName, ResourceDetector> = {
  // serviceinstance before env, so OTEL_RESOURCE_ATTRIBUTES=service.instance.id=… wins over the random one.
  serviceinstance: serviceInstanceIdDetector,
  host: hostDetector,
  os: osDetector,
  process: processDetector,
  env: envDetector,
};
const ORDER: readonly ResourceDetectorName[] = ['serviceinstance', 'host', 'os', 'process', 'env'];

/** `OTEL_RESOURCE_ATTRIBUTES` of an environment other than `process.env` (which envDetector cannot read). */
function envAttributes(raw: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of (raw ?? '').split(',')) {
    const i = pair.indexOf('=');
    if (i <= 0) continue;
    try {
      out[decodeURIComponent(pair.slice(0, i).trim())] = decodeURIComponent(pair.slice(i + 1).trim());
    } catch {
      /* a malformed pair is ignored, as envDetector does */
    }
  }
  return out;
}

/**
 * The resource every export carries: the SDK defaults, then the selected detectors (the stock ones of
 * @opentelemetry/resources; `serviceinstance` gives a random UUID per process, so several instances pushing to one
 * collector stay distinct series), then `service.name` / `service.version` and a `serviceInstanceId` option.
 * Some detectors (host) finish asynchronously: exporters wait for them, and so does the endpoint's target_info.
 */
export function buildResource(config: ResolvedConfig, env: Readonly<Record<string, string | undefined>>): Resource {
  const selected = ORDER.filter((d) => config.resourceDetectors.includes(d));
  const stock = selected.filter((d) => d !== 'env' || env === process.env).map((d) => DETECTORS[d]);
  let resource = defaultResource().merge(detectResources({ detectors: stock }));
  if (selected.includes('env') && env !== process.env)
    resource = resource.merge(
      resourceFromAttributes(envAttributes(found('resourceAttributes', {}, env)?.value as string | undefined)),
    );
  return resource.merge(
    resourceFromAttributes({
      'service.name': config.serviceName,
      ...(config.serviceVersion ? { 'service.version': config.serviceVersion } : {}),
      ...(config.serviceInstanceId ? { 'service.instance.id': config.serviceInstanceId } : {}),
    }),
  );
}
