/** One row of the settings table (settings.ts): an option, its variables, type, default, bounds and doc. */
export interface Setting {
  /** Path of the option under `startTelemetry(options)` (`prometheus.port`); none: the environment only. */
  readonly option?: string;
  /** The environment variables, in order: the first one set is read. None: an option only. */
  readonly env?: readonly string[];
  /** The variables are OpenTelemetry's standard ones, read as its SDK reads them. */
  readonly otel?: boolean;
  readonly type: 'integer' | 'number' | 'boolean' | 'enum' | 'list' | 'string' | 'url' | 'credentials' | 'object';
  /** The default a reader falls back to (integers, booleans, value lists, strings). */
  readonly default?: number | boolean | string;
  /** The default as the reference states it, when `default` does not say it (or there is none). */
  readonly defaultText?: string;
  readonly min?: number;
  readonly max?: number;
  /** The valid values (value lists and lists). */
  readonly values?: readonly string[];
  /** The bounds or values as the reference states them, when `min`/`max`/`values` do not say it. */
  readonly boundsText?: string;
  /** Value lists: what an unknown value is called in the error (`unknown <noun> "x"`); default `value`. */
  readonly noun?: string;
  /**
   * Value lists: how a value is compared: `lower` (trimmed and lower-cased, as OpenTelemetry reads its variables),
   * `exact`, or `lower-env` (the variable lower-cased, the option exact).
   */
  readonly fold?: 'lower' | 'exact' | 'lower-env';
  /**
   * The variable is read as it is: not trimmed, no control-character check (set but blank is then a value, which
   * the reader judges: a mistake for credentials, no attributes for the resource).
   */
  readonly untrimmed?: boolean;
  /** Read outside `resolveConfig` (by the part named), as OpenTelemetry reads it; listed for the reference. */
  readonly readBy?: string;
  readonly doc: string;
}
