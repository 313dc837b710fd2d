// The one table of core's settings: every option and environment variable, its type, default, bounds and what it
// does, declared once (export.ts, recording.ts). `found` is the one function that reads a setting
// (the option, else the first variable set); `readInteger`/`readBoolean`/`readEnum` parse the plain kinds from it.
// docs/configuration.md's reference is generated from this table (scripts/settings-reference.ts).
import type { Setting } from './setting.js';
import { EXPORT_SETTINGS } from './export.js';
import { RECORDING_SETTINGS } from './recording.js';
import { bool, envVar, integer, TelemetryConfigError } from './values.js';

export type { Setting };

/** Core's settings, in the order of the reference. */
export const SETTINGS = { ...EXPORT_SETTINGS, ...RECORDING_SETTINGS } as const satisfies Record<string, Setting>;

export type SettingName = keyof typeof SETTINGS;
type Env = Readonly<Record<string, string | undefined>>;

/** Where a setting's value came from: `options.<path>` or the variable's name. */
export interface Found {
  value: unknown;
  source: string;
}

/**
 * The one reader of a setting: the option at its path when given (null counts as not given, except for integers,
 * which report it), else the first of its variables that is set (trimmed; blank is unset), else undefined.
 */
export function found(name: SettingName, options: object, env: Env): Found | undefined {
  const s: Setting = SETTINGS[name];
  if (s.option !== undefined) {
    let v: unknown = options;
    for (const key of s.option.split('.')) v = v !== null && typeof v === 'object' ? (v as never)[key] : undefined;
    if (v !== undefined && (v !== null || s.type === 'integer')) return { value: v, source: `options.${s.option}` };
  }
  for (const variable of s.env ?? []) {
    const raw = s.untrimmed ? env[variable] : envVar(env, variable);
    if (raw !== undefined) return { value: raw, source: variable };
  }
  return undefined;
}

/**
 * A variable read where a mistake must never throw (the default diag logger, the instrumentation selection, the
 * fallback start of a preload): its value as `found` gives it, or the message of the mistake (a control character).
 */
export function readQuietly(name: SettingName, env: Env): { value?: string; problem?: string } {
  try {
    return { value: found(name, {}, env)?.value as string | undefined };
  } catch (err) {
    return { problem: (err as Error).message };
  }
}

type Of<T extends Setting['type']> = {
  [K in SettingName]: (typeof SETTINGS)[K]['type'] extends T
    ? (typeof SETTINGS)[K] extends { default: unknown }
      ? K
      : never
    : never;
}[SettingName];
type EnumValue<K extends SettingName> = (typeof SETTINGS)[K] extends { values: readonly (infer V)[] } ? V : never;

/** An integer setting, checked against its bounds, else its default. */
export function readInteger(name: Of<'integer'>, options: object, env: Env): number {
  const s: Setting = SETTINGS[name];
  const f = found(name, options, env);
  return f === undefined ? (s.default as number) : integer(f.source, f.value, s.min!, s.max!);
}

/** A boolean setting: the option as given, the variable `true`/`false`/`1`/`0`, else its default. */
export function readBoolean(name: Of<'boolean'>, options: object, env: Env): boolean {
  const f = found(name, options, env);
  if (f === undefined) return SETTINGS[name].default;
  return f.source.startsWith('options.') ? (f.value as boolean) : bool(f.source, f.value as string);
}

/** A setting with a list of valid values, compared as its `fold` says (an unknown one quoted as given), else its default. */
export function readEnum<K extends Of<'enum'>>(name: K, options: object, env: Env): EnumValue<K> {
  const s: Setting = SETTINGS[name];
  const f = found(name, options, env);
  if (f === undefined) return s.default as EnumValue<K>;
  const fromOption = f.source.startsWith('options.');
  const lower = s.fold === 'lower' || (s.fold === 'lower-env' && !fromOption);
  const v = lower ? (f.value as string).trim().toLowerCase() : (f.value as string);
  if (!s.values!.includes(v)) {
    throw new TelemetryConfigError(
      `${f.source}: unknown ${s.noun ?? 'value'} ${JSON.stringify(f.value)}; valid values are ${s.values!.join(', ')}`,
    );
  }
  return v as EnumValue<K>;
}
