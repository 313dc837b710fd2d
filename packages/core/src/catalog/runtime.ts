import type { MetricDefinition } from './types.js';
import { GC_BUCKETS } from './buckets.js';

/**
 * Node.js process and runtime metrics (extensions). Names, types and label names are prom-client 15's default
 * metrics, so the common Node.js dashboards work unchanged; `nodejs_eventloop_utilization_ratio` is beyond it.
 * Counters keep their `_total` names as they are (the serializer never appends suffixes to catalog metrics).
 */
export const runtime = [
  // Process (prom-client: processCpuTotal, processStartTime, osMemoryHeap, process*FileDescriptors)
  { name: 'process_cpu_user_seconds_total', type: 'counter', family: 'runtime', unit: 's', labels: [], extension: true,
    description: 'Total user CPU time spent in seconds.' },
  { name: 'process_cpu_system_seconds_total', type: 'counter', family: 'runtime', unit: 's', labels: [], extension: true,
    description: 'Total system CPU time spent in seconds.' },
  { name: 'process_cpu_seconds_total', type: 'counter', family: 'runtime', unit: 's', labels: [], extension: true,
    description: 'Total user and system CPU time spent in seconds.' },
  { name: 'process_start_time_seconds', type: 'gauge', family: 'runtime', unit: 's', labels: [], extension: true, clusterAggregation: 'perWorker',
    description: 'Start time of the process since unix epoch in seconds.' },
  { name: 'process_resident_memory_bytes', type: 'gauge', family: 'runtime', unit: 'By', labels: [], extension: true, clusterAggregation: 'perWorker',
    description: 'Resident memory size in bytes.' },
  { name: 'process_virtual_memory_bytes', type: 'gauge', family: 'runtime', unit: 'By', labels: [], extension: true, clusterAggregation: 'perWorker',
    description: 'Virtual memory size in bytes (Linux: VmSize of /proc/self/status).' },
  { name: 'process_heap_bytes', type: 'gauge', family: 'runtime', unit: 'By', labels: [], extension: true, clusterAggregation: 'perWorker',
    description: 'Process heap size in bytes (Linux: VmData of /proc/self/status).' },
  { name: 'process_open_fds', type: 'gauge', family: 'runtime', unit: '1', labels: [], extension: true, clusterAggregation: 'perWorker',
    description: 'Number of open file descriptors (Linux).' },
  { name: 'process_max_fds', type: 'gauge', family: 'runtime', unit: '1', labels: [], extension: true, clusterAggregation: 'perWorker',
    description: 'Maximum number of open file descriptors (Linux).' },

  // Event loop (prom-client: eventLoopLag; utilisation is ours)
  { name: 'nodejs_eventloop_lag_seconds', type: 'gauge', family: 'runtime', unit: 's', labels: [], extension: true, clusterAggregation: 'perWorker',
    description: 'Lag of event loop in seconds: time until a setImmediate scheduled at the previous collection ran.' },
  { name: 'nodejs_eventloop_lag_min_seconds', type: 'gauge', family: 'runtime', unit: 's', labels: [], extension: true, clusterAggregation: 'perWorker',
    description: 'The minimum recorded event loop delay since the previous collection.' },
  { name: 'nodejs_eventloop_lag_max_seconds', type: 'gauge', family: 'runtime', unit: 's', labels: [], extension: true, clusterAggregation: 'perWorker',
    description: 'The maximum recorded event loop delay since the previous collection.' },
  { name: 'nodejs_eventloop_lag_mean_seconds', type: 'gauge', family: 'runtime', unit: 's', labels: [], extension: true, clusterAggregation: 'perWorker',
    description: 'The mean of the recorded event loop delays since the previous collection.' },
  { name: 'nodejs_eventloop_lag_stddev_seconds', type: 'gauge', family: 'runtime', unit: 's', labels: [], extension: true, clusterAggregation: 'perWorker',
    description: 'The standard deviation of the recorded event loop delays since the previous collection.' },
  { name: 'nodejs_eventloop_lag_p50_seconds', type: 'gauge', family: 'runtime', unit: 's', labels: [], extension: true, clusterAggregation: 'perWorker',
    description: 'The 50th percentile of the recorded event loop delays since the previous collection.' },
  { name: 'nodejs_eventloop_lag_p90_seconds', type: 'gauge', family: 'runtime', unit: 's', labels: [], extension: true, clusterAggregation: 'perWorker',
    description: 'The 90th percentile of the recorded event loop delays since the previous collection.' },
  { name: 'nodejs_eventloop_lag_p99_seconds', type: 'gauge', family: 'runtime', unit: 's', labels: [], extension: true, clusterAggregation: 'perWorker',
    description: 'The 99th percentile of the recorded event loop delays since the previous collection.' },
  { name: 'nodejs_eventloop_utilization_ratio', type: 'gauge', family: 'runtime', unit: '1', labels: [], extension: true, clusterAggregation: 'perWorker',
    description: 'Share of time the event loop was busy (0 to 1) since the previous collection.' },

  // Handles, requests, resources (prom-client: processHandles, processRequests, processResources)
  { name: 'nodejs_active_resources', type: 'gauge', family: 'runtime', labels: ['type'], extension: true, clusterAggregation: 'perWorker',
    description: 'Number of active resources that are currently keeping the event loop alive, grouped by async resource type.' },
  { name: 'nodejs_active_resources_total', type: 'gauge', family: 'runtime', labels: [], extension: true, clusterAggregation: 'perWorker',
    description: 'Total number of active resources.' },
  { name: 'nodejs_active_handles', type: 'gauge', family: 'runtime', labels: ['type'], extension: true, clusterAggregation: 'perWorker',
    description: 'Number of active libuv handles grouped by handle type. Every handle type is C++ class name.' },
  { name: 'nodejs_active_handles_total', type: 'gauge', family: 'runtime', labels: [], extension: true, clusterAggregation: 'perWorker',
    description: 'Total number of active handles.' },
  { name: 'nodejs_active_requests', type: 'gauge', family: 'runtime', labels: ['type'], extension: true, clusterAggregation: 'perWorker',
    description: 'Number of active libuv requests grouped by request type. Every request type is C++ class name.' },
  { name: 'nodejs_active_requests_total', type: 'gauge', family: 'runtime', labels: [], extension: true, clusterAggregation: 'perWorker',
    description: 'Total number of active requests.' },

  // V8 heap (prom-client: heapSizeAndUsed, heapSpacesSizeAndUsed)
  { name: 'nodejs_heap_size_total_bytes', type: 'gauge', family: 'runtime', unit: 'By', labels: [], extension: true, clusterAggregation: 'perWorker',
    description: 'Process heap size from Node.js in bytes.' },
  { name: 'nodejs_heap_size_used_bytes', type: 'gauge', family: 'runtime', unit: 'By', labels: [], extension: true, clusterAggregation: 'perWorker',
    description: 'Process heap size used from Node.js in bytes.' },
  { name: 'nodejs_external_memory_bytes', type: 'gauge', family: 'runtime', unit: 'By', labels: [], extension: true, clusterAggregation: 'perWorker',
    description: 'Node.js external memory size in bytes.' },
  { name: 'nodejs_heap_space_size_total_bytes', type: 'gauge', family: 'runtime', unit: 'By', labels: ['space'], extension: true, clusterAggregation: 'perWorker',
    description: 'Process heap space size total from Node.js in bytes.' },
  { name: 'nodejs_heap_space_size_used_bytes', type: 'gauge', family: 'runtime', unit: 'By', labels: ['space'], extension: true, clusterAggregation: 'perWorker',
    description: 'Process heap space size used from Node.js in bytes.' },
  { name: 'nodejs_heap_space_size_available_bytes', type: 'gauge', family: 'runtime', unit: 'By', labels: ['space'], extension: true, clusterAggregation: 'perWorker',
    description: 'Process heap space size available from Node.js in bytes.' },

  // Version and GC (prom-client: version, gc)
  { name: 'nodejs_version_info', type: 'gauge', family: 'runtime', labels: ['version', 'major', 'minor', 'patch'], extension: true, clusterAggregation: 'once',
    description: 'Node.js version info.' },
  // Which runtime (ours: Bun and Deno report a Node.js compatibility version in nodejs_version_info)
  { name: 'tuist_runtime_info', type: 'gauge', family: 'runtime', labels: ['runtime', 'version'], extension: true, clusterAggregation: 'once',
    description: 'The JavaScript runtime the runtime metrics measure (node, bun or deno) and its own version; nodejs_version_info is the Node.js version it is compatible with.' },
  { name: 'nodejs_gc_duration_seconds', type: 'histogram', family: 'runtime', unit: 's', buckets: GC_BUCKETS, labels: ['kind'], extension: true,
    description: 'Garbage collection duration by kind, one of major, minor, incremental or weakcb.' },
] as const satisfies readonly MetricDefinition[];
