// What callers pass, normalised: PostHog ids from numbers or strings, and errors as one line for a warning.

/** The group types PostHog receives, in the order the SDK sends them. */
export const GROUP_TYPES = ['project', 'organization'] as const;

export type Properties = Record<string, unknown>;

/** A PostHog id: a finite number as its decimal string, a non-blank string as given, else `undefined`. */
export function idOf(value: unknown): string | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (typeof value === 'string' && value.trim() !== '') return value;
  return undefined;
}

/** An error's message with its cause's (`fetch failed: connect ECONNREFUSED`). */
export function messageOf(err: unknown): string {
  if (err instanceof Error) {
    const cause = (err as { cause?: unknown }).cause;
    return cause instanceof Error ? `${err.message}: ${cause.message}` : err.message;
  }
  return String(err);
}
