export { createStorage } from './storage.js';
export { instrumentS3Client } from './instrument.js';
export { TuistS3Instrumentation } from './instrumentation.js';
export { StorageInputError, DeleteAllObjectsError } from './errors.js';
export { OPERATION_METRICS, OBJECT_SIZE_METRIC, COMMAND_DURATION_METRIC, COMMAND_COUNT_METRIC } from './metrics.js';
export type { Operation } from './metrics.js';
export type {
  Storage,
  StorageOptions,
  PresignOptions,
  UploadedPart,
  DeleteFailure,
  InstrumentS3ClientOptions,
  TuistS3InstrumentationConfig,
} from './types.js';
