// Core's configuration: the options and what they resolve to (options.ts) and the resolution (resolve.ts, otel.ts),
// read from the one settings table (../settings/: the table, its reader, value lists and parsing primitives).
export * from '../settings/lists.js';
export * from './options.js';
export { TelemetryConfigError } from '../settings/values.js';
export { parseExporters, resolveConfig } from './resolve.js';
export { parseResourceDetectors, resolveOtelSettings } from './otel.js';
export { SETTINGS, type Setting, type SettingName } from '../settings/table.js';
