export { createStorage } from './storage.js';
export { instrumentS3Client } from './instrument.js';
export { TuistS3Instrumentation } from './instrumentation.js';
export type { TuistS3InstrumentationConfig } from './instrumentation.js';
export { StorageInputError, DeleteAllObjectsError } from './errors.js';
export type {
  Storage,
  StorageOptions,
  PresignOptions,
  UploadedPart,
  DeleteFailure,
  InstrumentS3ClientOptions,
} from './types.js';
