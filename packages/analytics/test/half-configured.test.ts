import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const dir = fileURLToPath(new URL('..', import.meta.url));

/** Runs createAnalytics() three times in a fresh process with no diag logger installed; returns its stderr. */
function run(env: Record<string, string>): { status: number | null; stderr: string } {
  const script = `
    import { createAnalytics } from '@tuist-telemetry/analytics';
    for (let i = 0; i < 3; i++) await createAnalytics({ telemetry: null }).shutdown();
  `;
  const clean: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^(OTEL_|TUIST_)/.test(k)) clean[k] = v;
  const r = spawnSync(
    process.execPath,
    ['--import', 'tsx', '--conditions=source', '--input-type=module', '-e', script],
    {
      cwd: dir,
      env: { ...clean, ...env },
      encoding: 'utf8',
      timeout: 30_000,
    },
  );
  return { status: r.status, stderr: r.stderr };
}

describe('analytics: a half-configured PostHog says so once (issue 15 item 8)', () => {
  it('only TUIST_POSTHOG_API_KEY: one warning naming TUIST_POSTHOG_URL, on stderr by default', () => {
    const r = run({ TUIST_POSTHOG_API_KEY: 'phc_key' });
    expect(r.status, r.stderr).to.equal(0);
    const lines = r.stderr.split('\n').filter(Boolean);
    expect(lines, r.stderr).to.have.length(1);
    expect(lines[0]).to.match(
      /^warn: @tuist-telemetry\/analytics TUIST_POSTHOG_API_KEY .* is set but TUIST_POSTHOG_URL .* is not/,
    );
  });

  it('only TUIST_POSTHOG_URL: one warning naming TUIST_POSTHOG_API_KEY', () => {
    const r = run({ TUIST_POSTHOG_URL: 'https://eu.i.posthog.com' });
    const lines = r.stderr.split('\n').filter(Boolean);
    expect(lines, r.stderr).to.have.length(1);
    expect(lines[0]).to.match(/TUIST_POSTHOG_URL .* is set but TUIST_POSTHOG_API_KEY .* is not/);
  });

  it('neither (analytics off on purpose) or OTEL_LOG_LEVEL=none: nothing', () => {
    expect(run({}).stderr).to.equal('');
    expect(run({ TUIST_POSTHOG_API_KEY: 'phc_key', OTEL_LOG_LEVEL: 'none' }).stderr).to.equal('');
  });
});
