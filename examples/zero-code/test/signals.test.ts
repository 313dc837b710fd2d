import { signalSuite } from './signal-suite.js';

signalSuite({
  name: `Node ${process.version}`,
  binary: async () => process.execPath,
  plain: [],
  preload: ['--import', '@tuist-telemetry/core/register'],
});
