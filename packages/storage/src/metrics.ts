import {
  activeTelemetry,
  counter,
  histogram,
  logger,
  type CounterName,
  type HistogramName,
  type Labels,
  type Telemetry,
} from '@tuist-telemetry/core/internal';

const log = logger('storage');

/** The documented histogram and counter of each storage operation. */
export const OPERATION_METRICS = {
  getObjectSize: {
    duration: 'tuist_storage_get_object_size_duration_miliseconds',
    count: 'tuist_storage_get_object_size_count',
  },
  objectExists: {
    duration: 'tuist_storage_check_object_existence_duration_milliseconds',
    count: 'tuist_storage_check_object_existence_count',
  },
  getObjectAsString: {
    duration: 'tuist_storage_get_object_as_string_duration_milliseconds',
    count: 'tuist_storage_get_object_as_string_count',
  },
  deleteAllObjects: {
    duration: 'tuist_storage_delete_all_objects_duration_milliseconds',
    count: 'tuist_storage_delete_all_objects_count',
  },
  generateDownloadUrl: {
    duration: 'tuist_storage_generate_download_presigned_url_duration_milliseconds',
    count: 'tuist_storage_generate_download_presigned_url_count',
  },
  multipartStart: {
    duration: 'tuist_storage_multipart_start_upload_duration_milliseconds',
    count: 'tuist_storage_multipart_start_upload_duration_count',
  },
  multipartGenerateUploadPartUrl: {
    duration: 'tuist_storage_multipart_generate_upload_part_presigned_url_duration_milliseconds',
    count: 'tuist_storage_multipart_generate_upload_part_presigned_url_count',
  },
  multipartComplete: {
    duration: 'tuist_storage_multipart_complete_upload_duration_milliseconds',
    count: 'tuist_storage_multipart_complete_upload_count',
  },
} as const;

export type Operation = keyof typeof OPERATION_METRICS;

export const OBJECT_SIZE_METRIC = 'tuist_storage_get_object_size_size_bytes';
export const COMMAND_DURATION_METRIC = 'tuist_storage_command_duration_milliseconds';
export const COMMAND_COUNT_METRIC = 'tuist_storage_command_count';

let warnedNoTelemetry = false;

/** Core's rule (`activeTelemetry`): the explicit telemetry, else the running one; warns once per process when there is none. */
export function resolveTelemetry(explicit: Telemetry | undefined): Telemetry | undefined {
  const t = activeTelemetry(explicit);
  if (t === undefined && !warnedNoTelemetry) {
    warnedNoTelemetry = true;
    log.warn(
      'no telemetry is running (call startTelemetry() first, or pass `telemetry`); storage metrics are not recorded',
    );
  }
  return t;
}

/** Records one duration and one count; never throws into the caller. */
export function recordDurationAndCount(
  t: Telemetry,
  duration: HistogramName,
  count: CounterName,
  ms: number,
  labels: Labels,
): void {
  try {
    histogram(t, duration).record(ms, labels);
    counter(t, count).add(1, labels);
  } catch (err) {
    t.warnings.warn(
      `storage-record:${duration}`,
      `@tuist-telemetry/storage: could not record ${duration} (${String(err)})`,
    );
  }
}

/** Records a value on a catalog histogram; never throws into the caller. */
export function recordValue(t: Telemetry, name: HistogramName, value: number, labels: Labels): void {
  try {
    histogram(t, name).record(value, labels);
  } catch (err) {
    t.warnings.warn(`storage-record:${name}`, `@tuist-telemetry/storage: could not record ${name} (${String(err)})`);
  }
}

/**
 * Runs one storage operation and records its duration and count, on success and on failure. The operation's own
 * result or error passes through unchanged (same object).
 */
export async function measure<T>(
  explicit: Telemetry | undefined,
  operation: Operation,
  labels: Labels,
  run: () => Promise<T>,
): Promise<T> {
  const start = performance.now();
  try {
    return await run();
  } finally {
    const t = resolveTelemetry(explicit);
    if (t !== undefined) {
      const m = OPERATION_METRICS[operation];
      recordDurationAndCount(t, m.duration, m.count, performance.now() - start, labels);
    }
  }
}
