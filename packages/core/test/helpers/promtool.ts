import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { requireService } from '@tuist-telemetry/testing';

const PROMTOOL = [process.env.PROMTOOL_BIN, '/usr/bin/promtool', '/usr/local/bin/promtool'].find(
  (c): c is string => !!c && existsSync(c),
);

/**
 * Runs Prometheus' own parser over an exposition (`promtool check metrics`): exit 1 is a parse error, 3 is lint
 * findings only (suffix-less counters and millisecond units, which this catalog needs), which passes. Skips the
 * test outside CI when promtool is missing (Debian's `prometheus` package installs it).
 */
export function expectPromtoolParses(ctx: Mocha.Context, body: string): void {
  requireService(ctx, 'promtool', PROMTOOL !== undefined, 'install the prometheus Debian package or set PROMTOOL_BIN');
  const r = spawnSync(PROMTOOL!, ['check', 'metrics'], { input: body, encoding: 'utf8' });
  if (r.status !== 0 && r.status !== 3) {
    throw new Error(`promtool check metrics exited ${r.status}: ${r.stdout}${r.stderr}`.slice(0, 2000));
  }
}
