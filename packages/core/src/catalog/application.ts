import type { MetricDefinition } from './types.js';
import { B1, JOB_BUCKETS } from './buckets.js';

/** Extensions: the Node counterparts of PromEx's Application, Phoenix and Oban plugins. */
export const application = [
  {
    name: 'tuist_application_info',
    type: 'gauge',
    family: 'application',
    labels: ['service_name', 'version', 'node_version'],
    extension: true,
    clusterAggregation: 'once',
    description: 'Information about the application; always 1.',
  },
] as const satisfies readonly MetricDefinition[];

export const httpServer = [
  {
    name: 'tuist_http_server_requests_total',
    type: 'counter',
    family: 'http_server',
    labels: ['method', 'route', 'status'],
    extension: true,
    description: 'HTTP requests served, by method, route template and status.',
  },
  {
    name: 'tuist_http_server_request_duration_milliseconds',
    type: 'histogram',
    family: 'http_server',
    unit: 'ms',
    buckets: B1,
    labels: ['method', 'route', 'status'],
    extension: true,
    description: 'Time to serve each HTTP request, by method, route template and status.',
  },
] as const satisfies readonly MetricDefinition[];

export const jobs = [
  {
    name: 'tuist_job_processing_duration_milliseconds',
    type: 'histogram',
    family: 'jobs',
    unit: 'ms',
    buckets: JOB_BUCKETS,
    labels: ['queue', 'worker', 'state'],
    extension: true,
    description: 'Time to process each background job, by queue, worker and final state.',
  },
] as const satisfies readonly MetricDefinition[];

export const analytics = [
  {
    name: 'tuist_analytics_events_dropped_total',
    type: 'counter',
    family: 'analytics',
    labels: ['reason'],
    extension: true,
    description: 'Analytics events that were not delivered to PostHog, by reason.',
  },
] as const satisfies readonly MetricDefinition[];
