/**
 * A bounded wait for something a test awaits that a bug (or a mutant of `npm run mutate`) could make never come: an
 * export at a receiver, a scrape's response, a warning line, a shutdown. The bound is generous (seconds, far above
 * what any of these takes on a busy machine), so no timing is asserted; a hang then fails its test at the bound with
 * a message that says what never came, instead of waiting for mocha's minute or Stryker's timeout.
 */
export const WAIT_MS = 5000;

/** `promise`, or a rejection "<what> did not come within <ms> ms" once `ms` pass first. */
export function within<T>(promise: Promise<T>, what: string, ms: number = WAIT_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const bound = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not come within ${ms} ms`)), ms);
  });
  return Promise.race([promise, bound]).finally(() => clearTimeout(timer));
}
