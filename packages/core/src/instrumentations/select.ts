import type { DiagLogger } from '@opentelemetry/api';
import { INSTRUMENTATION_NAMES, type InstrumentationName } from '../settings/lists.js';
import { readQuietly, type SettingName } from '../settings/table.js';

type Env = Readonly<Record<string, string | undefined>>;

/** A comma list setting's names; a variable with a control character names nothing (warned, never thrown). */
function list(name: SettingName, env: Env, log: DiagLogger): string[] {
  const { value: raw, problem } = readQuietly(name, env);
  if (problem !== undefined) log.warn(`${problem}; it is ignored`);
  return (raw ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

/** The longest list of unknown names a warning echoes (a 10 KB variable must not become a 10 KB line). */
const MAX_ECHO = 200;

/**
 * Which instrumentations to turn on, as OpenTelemetry's auto-instrumentations read it: all of them, or only those
 * `OTEL_NODE_ENABLED_INSTRUMENTATIONS` names, minus those `OTEL_NODE_DISABLED_INSTRUMENTATIONS` names. Unknown
 * names (OpenTelemetry's own, such as `express`, are common here) get one warning listing the valid ones.
 */
export function selectInstrumentations(env: Env, log: DiagLogger): Set<InstrumentationName> {
  const valid = new Set<string>(INSTRUMENTATION_NAMES);
  const enabled = list('enabledInstrumentations', env, log);
  const disabled = list('disabledInstrumentations', env, log);
  const unknown = [...new Set([...enabled, ...disabled].filter((n) => !valid.has(n)))];
  if (unknown.length) {
    const names = unknown.map((n) => JSON.stringify(n)).join(', ');
    log.warn(
      `OTEL_NODE_ENABLED_INSTRUMENTATIONS / OTEL_NODE_DISABLED_INSTRUMENTATIONS: ignoring unknown instrumentation ${
        names.length > MAX_ECHO ? names.slice(0, MAX_ECHO) + '…' : names
      }; the Tuist instrumentations are ${INSTRUMENTATION_NAMES.join(', ')}`,
    );
  }
  const base = enabled.length ? enabled.filter((n) => valid.has(n)) : [...INSTRUMENTATION_NAMES];
  return new Set(base.filter((n) => !disabled.includes(n)) as InstrumentationName[]);
}
