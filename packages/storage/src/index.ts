export { createStorage } from './storage.js';
export { instrumentS3Client } from './instrument.js';
export { TuistS3Instrumentation } from './instrumentation.js';
export { StorageInputError, DeleteAllObjectsError } from './errors.js';
export type {
  Storage,
  StorageOptions,
  PresignOptions,
  UploadedPart,
  DeleteFailure,
  InstrumentS3ClientOptions,
  TuistS3InstrumentationConfig,
} from './types.js';
