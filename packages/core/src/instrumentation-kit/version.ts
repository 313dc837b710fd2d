/*
 * The module-version check of the instrumentations. Hand-written beside the stock `supportedVersions` of
 * `InstrumentationNodeModuleDefinition` (given `['*']`): the stock check skips an unsupported version silently,
 * and the SDK says once which versions it supports instead.
 */

/** A range of supported majors, inclusive (`[8, 8]`: 8.x; `[2, 3]`: 2.x and 3.x). */
export type Majors = readonly [min: number, max: number];

/** The major version of an `x.y.z` version string; `undefined` when it cannot be read. */
export function majorOf(version: string | undefined): number | undefined {
  const m = typeof version === 'string' ? /^(\d+)\./.exec(version) : null;
  return m ? Number(m[1]) : undefined;
}

/** Whether a library version is within `majors`; an unknown or unreadable version is given the benefit of the doubt. */
export function supportsMajor(version: string | undefined, [min, max]: Majors): boolean {
  const major = majorOf(version);
  return major === undefined || (major >= min && major <= max);
}
