import {
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  type S3Client,
} from '@aws-sdk/client-s3';
import { TelemetryConfigError, type Telemetry } from '@tuist-telemetry/core/internal';
import { DeleteAllObjectsError } from './errors.js';
import { presignDownload, presignUploadPart } from './presign.js';
import { OBJECT_SIZE_METRIC, measure, recordValue, resolveTelemetry } from './metrics.js';
import type { DeleteFailure, PresignOptions, Storage, StorageOptions, UploadedPart } from './types.js';
import { isNotFound } from './aws-sdk.js';
import {
  DELETE_BATCH_SIZE,
  batches,
  projectPrefix,
  validateExpiresIn,
  validateKey,
  validatePartNumber,
  validateParts,
  validateUploadId,
} from './validate.js';

function validateOptions(options: StorageOptions): void {
  if (typeof options !== 'object' || options === null) {
    throw new TelemetryConfigError(
      '@tuist-telemetry/storage: createStorage needs an options object: createStorage({ client, bucket })',
    );
  }
  const client = options.client as Partial<S3Client> | undefined;
  if (typeof client?.send !== 'function' || typeof client.middlewareStack?.add !== 'function') {
    throw new TelemetryConfigError(
      '@tuist-telemetry/storage: createStorage({ client }) must be an S3Client from @aws-sdk/client-s3',
    );
  }
  if (typeof options.bucket !== 'string' || options.bucket === '') {
    throw new TelemetryConfigError(
      '@tuist-telemetry/storage: createStorage({ bucket }) must be the non-empty name of a bucket',
    );
  }
  if (options.telemetry !== undefined && typeof options.telemetry?.store?.histogram !== 'function') {
    throw new TelemetryConfigError(
      '@tuist-telemetry/storage: createStorage({ telemetry }) must be what startTelemetry() returned (or leave it out)',
    );
  }
}

/**
 * Storage operations on one bucket, each recording its documented `tuist_storage_*` duration histogram and counter
 * (on success and on failure). Bad input throws a `StorageInputError` before any network call; SDK errors reach
 * the caller unchanged.
 */
export function createStorage(options: StorageOptions): Storage {
  validateOptions(options);
  const { client, bucket } = options;
  const telemetry: Telemetry | undefined = options.telemetry;

  return {
    bucket,

    async getObjectSize(key) {
      validateKey(key);
      const labels = { object_key: key };
      const size = await measure(telemetry, 'getObjectSize', labels, async () => {
        const head = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
        return head.ContentLength ?? 0;
      });
      const t = resolveTelemetry(telemetry);
      if (t !== undefined) recordValue(t, OBJECT_SIZE_METRIC, size, labels);
      return size;
    },

    async objectExists(key) {
      validateKey(key);
      return measure(telemetry, 'objectExists', { object_key: key }, async () => {
        try {
          await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
          return true;
        } catch (err) {
          if (isNotFound(err)) return false;
          throw err;
        }
      });
    },

    async getObjectAsString(key) {
      validateKey(key);
      return measure(telemetry, 'getObjectAsString', { object_key: key }, async () => {
        const res = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
        return res.Body === undefined ? '' : res.Body.transformToString('utf-8');
      });
    },

    async deleteAllObjects(projectSlug) {
      const prefix = projectPrefix(projectSlug);
      return measure(telemetry, 'deleteAllObjects', { project_slug: projectSlug }, async () => {
        let deleted = 0;
        const failures: DeleteFailure[] = [];
        let token: string | undefined;
        do {
          const page = await client.send(
            new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
          );
          const keys: string[] = [];
          for (const o of page.Contents ?? []) if (o.Key !== undefined) keys.push(o.Key);
          for (const batch of batches(keys, DELETE_BATCH_SIZE)) {
            const res = await client.send(
              new DeleteObjectsCommand({
                Bucket: bucket,
                Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true },
              }),
            );
            const errors = res.Errors ?? [];
            for (const e of errors)
              failures.push({ key: e.Key ?? '', code: e.Code ?? 'unknown', message: e.Message ?? '' });
            // Quiet mode lists only failures; stores that ignore Quiet list the deleted keys too.
            deleted += res.Deleted?.length ?? batch.length - errors.length;
          }
          token = page.IsTruncated ? page.NextContinuationToken : undefined;
        } while (token !== undefined);
        if (failures.length > 0) throw new DeleteAllObjectsError(projectSlug, deleted, failures);
        return deleted;
      });
    },

    async generateDownloadUrl(key, presign?: PresignOptions) {
      validateKey(key);
      const expiresIn = validateExpiresIn(presign?.expiresIn);
      return measure(telemetry, 'generateDownloadUrl', { object_key: key }, () =>
        presignDownload(client, bucket, key, expiresIn),
      );
    },

    async multipartStart(key) {
      validateKey(key);
      return measure(telemetry, 'multipartStart', { object_key: key }, async () => {
        const res = await client.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }));
        if (res.UploadId === undefined || res.UploadId === '') {
          throw new Error(`@tuist-telemetry/storage: CreateMultipartUpload for "${key}" answered without an UploadId`);
        }
        return res.UploadId;
      });
    },

    async multipartGenerateUploadPartUrl(key, uploadId, partNumber, presign?: PresignOptions) {
      validateKey(key);
      validateUploadId(uploadId);
      validatePartNumber(partNumber);
      const expiresIn = validateExpiresIn(presign?.expiresIn);
      const labels = { object_key: key, upload_id: uploadId, part_number: String(partNumber) };
      return measure(telemetry, 'multipartGenerateUploadPartUrl', labels, () =>
        presignUploadPart(client, bucket, key, uploadId, partNumber, expiresIn),
      );
    },

    async multipartComplete(key, uploadId, parts: readonly UploadedPart[]) {
      validateKey(key);
      validateUploadId(uploadId);
      const sorted = validateParts(parts);
      await measure(telemetry, 'multipartComplete', { object_key: key, upload_id: uploadId }, async () => {
        await client.send(
          new CompleteMultipartUploadCommand({
            Bucket: bucket,
            Key: key,
            UploadId: uploadId,
            MultipartUpload: { Parts: sorted.map((p) => ({ PartNumber: p.partNumber, ETag: p.etag })) },
          }),
        );
      });
    },
  };
}
