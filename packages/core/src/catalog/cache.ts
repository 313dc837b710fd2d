import type { MetricDefinition } from './types.js';

export const CACHE_EVENT_TYPES = ['local_hit', 'remote_hit', 'miss'] as const;
export type CacheEventType = (typeof CACHE_EVENT_TYPES)[number];

export const cache = [
  {
    name: 'tuist_cache_events_total',
    type: 'counter',
    family: 'cache',
    labels: ['event_type'],
    description: 'Total number of binary cache events; event_type is local_hit, remote_hit or miss.',
    initialSeries: CACHE_EVENT_TYPES.map((event_type) => ({ event_type })),
  },
  {
    name: 'tuist_cache_uploads_total',
    type: 'counter',
    family: 'cache',
    labels: [],
    description: 'Number of uploads to the binary cache.',
  },
  {
    name: 'tuist_cache_uploaded_bytes',
    type: 'counter',
    family: 'cache',
    labels: [],
    unit: 'By',
    description: 'Bytes uploaded to the binary cache.',
  },
  {
    name: 'tuist_cache_downloads_total',
    type: 'counter',
    family: 'cache',
    labels: [],
    description: 'Number of downloads from the binary cache.',
  },
  {
    name: 'tuist_cache_downloaded_bytes',
    type: 'counter',
    family: 'cache',
    labels: [],
    unit: 'By',
    description: 'Bytes downloaded from the binary cache.',
  },
] as const satisfies readonly MetricDefinition[];
