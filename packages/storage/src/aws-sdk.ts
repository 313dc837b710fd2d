/* What this package reads from the AWS SDK's own names: the S3 operation of a command, a not-found error. */

/** Whether an SDK error means "no such object" (HeadObject answers a bare 404, named NotFound). */
export function isNotFound(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const e = err as { name?: unknown; $metadata?: { httpStatusCode?: unknown } };
  if (e.name === 'NoSuchBucket') return false;
  return e.name === 'NotFound' || e.name === 'NoSuchKey' || e.$metadata?.httpStatusCode === 404;
}

/** The S3 operation a command runs, from the SDK's command name (`HeadObjectCommand` -> `HeadObject`). */
export function commandLabel(commandName: unknown): string {
  if (typeof commandName !== 'string' || commandName === '') return 'unknown';
  return commandName.endsWith('Command') && commandName.length > 7 ? commandName.slice(0, -7) : commandName;
}
