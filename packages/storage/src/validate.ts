/* The checks of `createStorage`'s arguments (keys, upload ids, part numbers, lifetimes) and batching. */
import { StorageInputError } from './errors.js';
import type { UploadedPart } from './types.js';

/** S3's limit on a key, in UTF-8 bytes. */
const MAX_KEY_BYTES = 1024;
/** S3's limit on a presigned URL's lifetime (SigV4): 7 days. */
const MAX_EXPIRES_IN_SECONDS = 7 * 24 * 60 * 60;
const DEFAULT_EXPIRES_IN_SECONDS = 3600;
const MAX_PART_NUMBER = 10_000;
/** DeleteObjects takes at most this many keys per request. */
export const DELETE_BATCH_SIZE = 1000;

function describe(value: unknown): string {
  return typeof value === 'string'
    ? JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value)
    : String(value);
}

/** A non-empty string of at most 1024 UTF-8 bytes. */
export function validateKey(key: unknown, argument = 'key'): string {
  if (typeof key !== 'string' || key === '') {
    throw new StorageInputError(argument, `${argument} must be a non-empty string (got ${describe(key)})`);
  }
  const bytes = Buffer.byteLength(key, 'utf8');
  if (bytes > MAX_KEY_BYTES) {
    throw new StorageInputError(
      argument,
      `${argument} is ${bytes} bytes in UTF-8; S3 keys are at most ${MAX_KEY_BYTES} bytes`,
    );
  }
  return key;
}

export function validateUploadId(uploadId: unknown): string {
  if (typeof uploadId !== 'string' || uploadId === '') {
    throw new StorageInputError(
      'uploadId',
      `uploadId must be the non-empty string multipartStart returned (got ${describe(uploadId)})`,
    );
  }
  return uploadId;
}

/** The project's key prefix (`${projectSlug}/`), itself a valid key. */
export function projectPrefix(projectSlug: unknown): string {
  if (typeof projectSlug !== 'string' || projectSlug === '') {
    throw new StorageInputError('projectSlug', `projectSlug must be a non-empty string (got ${describe(projectSlug)})`);
  }
  return validateKey(`${projectSlug}/`, 'projectSlug');
}

/** Whole seconds from 1 to 7 days; `undefined` means the default (3600). */
export function validateExpiresIn(expiresIn: unknown): number {
  if (expiresIn === undefined) return DEFAULT_EXPIRES_IN_SECONDS;
  if (
    typeof expiresIn !== 'number' ||
    !Number.isInteger(expiresIn) ||
    expiresIn < 1 ||
    expiresIn > MAX_EXPIRES_IN_SECONDS
  ) {
    throw new StorageInputError(
      'expiresIn',
      `expiresIn must be a whole number of seconds from 1 to ${MAX_EXPIRES_IN_SECONDS} (7 days); got ${describe(expiresIn)}`,
    );
  }
  return expiresIn;
}

export function validatePartNumber(partNumber: unknown, argument = 'partNumber'): number {
  if (
    typeof partNumber !== 'number' ||
    !Number.isInteger(partNumber) ||
    partNumber < 1 ||
    partNumber > MAX_PART_NUMBER
  ) {
    throw new StorageInputError(
      argument,
      `${argument} must be a whole number from 1 to ${MAX_PART_NUMBER}; got ${describe(partNumber)}`,
    );
  }
  return partNumber;
}

/** A non-empty list of parts with valid, distinct part numbers and non-empty ETags, sorted by part number. */
export function validateParts(parts: unknown): UploadedPart[] {
  if (!Array.isArray(parts) || parts.length === 0) {
    throw new StorageInputError(
      'parts',
      'parts must be a non-empty array of { partNumber, etag } (a multipart upload has at least one part)',
    );
  }
  if (parts.length > MAX_PART_NUMBER) {
    throw new StorageInputError(
      'parts',
      `parts has ${parts.length} entries; a multipart upload has at most ${MAX_PART_NUMBER}`,
    );
  }
  const out: UploadedPart[] = parts.map((p: unknown, i) => {
    const part = (typeof p === 'object' && p !== null ? p : {}) as Partial<UploadedPart>;
    const partNumber = validatePartNumber(part.partNumber, `parts[${i}].partNumber`);
    if (typeof part.etag !== 'string' || part.etag === '') {
      throw new StorageInputError(
        `parts[${i}].etag`,
        `parts[${i}].etag must be the non-empty ETag the part upload answered with`,
      );
    }
    return { partNumber, etag: part.etag };
  });
  out.sort((a, b) => a.partNumber - b.partNumber);
  for (let i = 1; i < out.length; i++) {
    if (out[i]!.partNumber === out[i - 1]!.partNumber) {
      throw new StorageInputError('parts', `parts lists part number ${out[i]!.partNumber} twice`);
    }
  }
  return out;
}

/** Splits `items` into consecutive batches of at most `size`. */
export function batches<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
