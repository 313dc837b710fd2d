import type { S3Client } from '@aws-sdk/client-s3';
import type { InstrumentationConfig } from '@opentelemetry/instrumentation';
import type { Telemetry } from '@tuist-telemetry/core';

export interface StorageOptions {
  /** Your own `S3Client` (endpoint, region, credentials, `forcePathStyle`...). It is used as is, never modified. */
  client: S3Client;
  /** The bucket every operation works on. */
  bucket: string;
  /**
   * Where the metrics are recorded. Default: the running telemetry (`getTelemetry()`), looked up on each
   * operation; when none is running, operations still work and record nothing.
   */
  telemetry?: Telemetry;
}

export interface PresignOptions {
  /** Seconds the URL stays valid: a whole number from 1 to 604800 (7 days). Default 3600. */
  expiresIn?: number;
}

/** One uploaded part of a multipart upload: its number and the ETag the part upload answered with. */
export interface UploadedPart {
  partNumber: number;
  etag: string;
}

/** A key `deleteAllObjects` could not delete, as S3 reported it. */
export interface DeleteFailure {
  key: string;
  code: string;
  message: string;
}

export interface Storage {
  readonly bucket: string;
  /** Size of the object in bytes (HeadObject). Rejects with the SDK's error when it does not exist. */
  getObjectSize(key: string): Promise<number>;
  /** Whether the object exists (HeadObject): a 404 is `false`, any other failure rejects. */
  objectExists(key: string): Promise<boolean>;
  /** The object's body as a UTF-8 string (GetObject). */
  getObjectAsString(key: string): Promise<string>;
  /**
   * Deletes every object under `${projectSlug}/` (ListObjectsV2 pages, DeleteObjects batches of at most 1000) and
   * resolves with the number deleted. When S3 refuses some keys, every batch is still attempted, then it rejects
   * with a `DeleteAllObjectsError` listing them.
   */
  deleteAllObjects(projectSlug: string): Promise<number>;
  /** A presigned GET URL for the object. */
  generateDownloadUrl(key: string, options?: PresignOptions): Promise<string>;
  /** Starts a multipart upload (CreateMultipartUpload) and resolves with its upload id. */
  multipartStart(key: string): Promise<string>;
  /** A presigned PUT URL for one part (1..10000) of a multipart upload. */
  multipartGenerateUploadPartUrl(
    key: string,
    uploadId: string,
    partNumber: number,
    options?: PresignOptions,
  ): Promise<string>;
  /** Completes a multipart upload from its uploaded parts (sorted by part number for you). */
  multipartComplete(key: string, uploadId: string, parts: readonly UploadedPart[]): Promise<void>;
}

export interface InstrumentS3ClientOptions {
  /** Where the metrics are recorded. Default: the running telemetry (`getTelemetry()`), looked up per command. */
  telemetry?: Telemetry;
}

/** Configuration of `TuistS3Instrumentation`: OpenTelemetry's `enabled` only. */
export type TuistS3InstrumentationConfig = InstrumentationConfig;
