import type { DeleteFailure } from './types.js';

/** Bad input to a storage operation (empty key, expiry out of range...). Thrown before any network call. */
export class StorageInputError extends TypeError {
  override readonly name = 'StorageInputError';
  constructor(
    /** The argument that was wrong (`key`, `expiresIn`, `partNumber`...). */
    readonly argument: string,
    message: string,
  ) {
    super(`@tuist-telemetry/storage: ${message}`);
  }
}

/**
 * `deleteAllObjects` attempted every key but S3 refused some. `failures` lists them (key, S3 error code, message),
 * `deleted` counts the keys that were deleted; `errors` holds one Error per failed key (named after its code).
 */
export class DeleteAllObjectsError extends AggregateError {
  override readonly name = 'DeleteAllObjectsError';
  constructor(
    readonly projectSlug: string,
    readonly deleted: number,
    readonly failures: readonly DeleteFailure[],
  ) {
    const first = failures[0];
    super(
      failures.map((f) => Object.assign(new Error(`${f.key}: ${f.message}`), { name: f.code, key: f.key })),
      `@tuist-telemetry/storage: deleteAllObjects("${projectSlug}") deleted ${deleted} objects but could not delete ` +
        `${failures.length}` +
        (first ? ` (first: "${first.key}": ${first.code} ${first.message})` : ''),
    );
  }
}
