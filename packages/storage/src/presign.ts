import { GetObjectCommand, UploadPartCommand, type S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';

/** Request checksum headers the SDK adds by default (`requestChecksumCalculation: 'WHEN_SUPPORTED'`). */
const REQUEST_CHECKSUM_HEADER = /^x-amz-(checksum-(crc32|crc32c|crc64nvme|sha1|sha256)|sdk-checksum-algorithm)$/i;

/** A presigned GET URL for one object. */
export function presignDownload(client: S3Client, bucket: string, key: string, expiresIn: number): Promise<string> {
  return getSignedUrl(client, new GetObjectCommand({ Bucket: bucket, Key: key }), { expiresIn });
}

/**
 * A presigned PUT URL for one part. With the SDK's default checksum setting the URL would carry the CRC32 of an
 * empty body (`x-amz-checksum-crc32=AAAAAA==`, the part's bytes are unknown when presigning), which S3, R2 and
 * MinIO reject for any non-empty part. The checksum headers are removed before signing, whatever the client's
 * setting, so the URL accepts the part as sent.
 */
export function presignUploadPart(
  client: S3Client,
  bucket: string,
  key: string,
  uploadId: string,
  partNumber: number,
  expiresIn: number,
): Promise<string> {
  const command = new UploadPartCommand({ Bucket: bucket, Key: key, UploadId: uploadId, PartNumber: partNumber });
  command.middlewareStack.add(
    (next) => async (args) => {
      const headers = (args.request as { headers?: unknown } | undefined)?.headers;
      if (typeof headers === 'object' && headers !== null) {
        for (const name of Object.keys(headers))
          if (REQUEST_CHECKSUM_HEADER.test(name)) delete (headers as Record<string, string>)[name];
      }
      return next(args);
    },
    // After the SDK's flexibleChecksumsMiddleware (step build, priority normal), before signing.
    { step: 'build', priority: 'low', name: 'tuistTelemetryPresignWithoutChecksum' },
  );
  return getSignedUrl(client, command, { expiresIn });
}
