/**
 * Service availability policy for the suites: outside CI a missing service skips the suite and says so loudly;
 * under CI=true it fails.
 */
export const IN_CI = process.env.CI === 'true' || process.env.CI === '1';

export function requireService(ctx: Mocha.Context, name: string, available: boolean, why: string): void {
  if (available) return;
  if (IN_CI) throw new Error(`${name} is required under CI=true but is not available: ${why}`);
  console.warn(`\n!!! SKIPPING: ${name} is not available (${why}). Under CI=true this is a failure.\n`);
  ctx.skip();
}
