import { runtimeBinary } from './helpers.js';
import { signalSuite } from './signal-suite.js';

signalSuite({
  name: 'Bun',
  binary: () => runtimeBinary('bun'),
  plain: [],
  preload: ['--preload', '@tuist-telemetry/core/register'],
  servers: ['node:http', 'native'],
});

signalSuite({
  name: 'Deno',
  binary: () => runtimeBinary('deno'),
  plain: ['run', '-A'],
  preload: ['run', '-A', '--preload', './node_modules/@tuist-telemetry/core/dist/register.js'],
  servers: ['node:http', 'native'],
});
