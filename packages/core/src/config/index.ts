// Core's configuration: the options and what they resolve to (options.ts), the one settings table and its reader
// (settings.ts), the resolution (resolve.ts, otel.ts) and the parsing primitives (values.ts).
export * from './options.js';
export { TelemetryConfigError } from './values.js';
export { parseExporters, resolveConfig } from './resolve.js';
export { parseResourceDetectors, resolveOtelSettings } from './otel.js';
export { SETTINGS, type Setting, type SettingName } from './settings.js';
