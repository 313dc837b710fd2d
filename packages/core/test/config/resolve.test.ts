// resolveConfig in-process (no endpoint started): the credentials of /metrics, native histogram settings and the
// high-cardinality label list, each mistake thrown with its exact message (what to change and where it was set).
import { expect } from 'chai';
import { mistake } from '../helpers/index.js';
import { resolveConfig } from '../../src/config/index.js';
import type { TelemetryOptions } from '../../src/config/index.js';
import { NATIVE_DEFAULTS } from '../../src/store/native-histogram.js';

const authOf = (options: TelemetryOptions) => resolveConfig(options).prometheus.auth;
const TOKEN_VAR = 'TUIST_TELEMETRY_PROMETHEUS_BEARER_TOKEN';
const BASIC_VAR = 'TUIST_TELEMETRY_PROMETHEUS_BASIC_AUTH';
const NO_SPACES = 'must be a non-empty string without spaces or control characters';
const NO_CONTROL = 'must be a non-empty string without control characters';

describe('core config: resolveConfig itself', () => {
  it('options that are not an object are refused', () => {
    for (const bad of [null, 'port=9091', 42])
      expect(mistake(bad as never), String(bad)).to.equal('startTelemetry(options): options must be an object');
  });
});

describe('core config: credentials of /metrics from options.prometheus.auth', () => {
  it('a bearer token, basic credentials (spaces allowed in the password) or both are kept as given', () => {
    expect(authOf({ env: {}, prometheus: { auth: { bearerToken: 's3cret' } } })).to.deep.equal({
      bearerToken: 's3cret',
    });
    expect(
      authOf({ env: {}, prometheus: { auth: { basic: { username: 'prom', password: 'pass word' } } } }),
    ).to.deep.equal({ basic: { username: 'prom', password: 'pass word' } });
    expect(
      authOf({ env: {}, prometheus: { auth: { bearerToken: 't', basic: { username: 'u', password: 'p' } } } }),
    ).to.deep.equal({ bearerToken: 't', basic: { username: 'u', password: 'p' } });
  });

  it('given, the option wins and the two variables are not read (not even a mistake in them)', () => {
    const env = { [TOKEN_VAR]: '', [BASIC_VAR]: 'nocolon' };
    expect(authOf({ env, prometheus: { auth: { bearerToken: 'opt' } } })).to.deep.equal({ bearerToken: 'opt' });
  });

  it('each mistake names the option to change', () => {
    const shape = 'options.prometheus.auth must be { bearerToken } or { basic: { username, password } }';
    expect(mistake({ env: {}, prometheus: { auth: null as never } })).to.equal(shape);
    expect(mistake({ env: {}, prometheus: { auth: 'token' as never } })).to.equal(shape);
    expect(mistake({ env: {}, prometheus: { auth: {} } })).to.equal(
      'options.prometheus.auth must set bearerToken or basic: { username, password }',
    );
    expect(mistake({ env: {}, prometheus: { auth: { bearerToken: 42 as never } } })).to.equal(
      `options.prometheus.auth.bearerToken ${NO_SPACES}`,
    );
    expect(mistake({ env: {}, prometheus: { auth: { bearerToken: '  ' } } })).to.equal(
      `options.prometheus.auth.bearerToken ${NO_SPACES}`,
    );
    expect(mistake({ env: {}, prometheus: { auth: { basic: null as never } } })).to.equal(
      `options.prometheus.auth.basic.username ${NO_SPACES}`,
    );
    expect(mistake({ env: {}, prometheus: { auth: { basic: { username: 'a:b', password: 'p' } } } })).to.equal(
      'options.prometheus.auth.basic.username must not contain ":"',
    );
    expect(mistake({ env: {}, prometheus: { auth: { basic: { username: 'u' } as never } } })).to.equal(
      `options.prometheus.auth.basic.password ${NO_CONTROL}`,
    );
    expect(mistake({ env: {}, prometheus: { auth: { basic: { username: 'u', password: ' \t ' } } } })).to.equal(
      `options.prometheus.auth.basic.password ${NO_CONTROL}`,
    );
  });

  it('a token no client could send names the option when set there, the variable when set there', () => {
    const problem = 'must be printable ASCII without spaces (RFC 6750 tokens are ASCII;';
    expect(mistake({ env: {}, prometheus: { auth: { bearerToken: 'tök' } } })).to.contain(
      `options.prometheus.auth.bearerToken ${problem}`,
    );
    expect(mistake({ env: { [TOKEN_VAR]: 'tök' } })).to.contain(`${TOKEN_VAR} ${problem}`);
  });
});

describe('core config: credentials of /metrics from the environment', () => {
  it('none set: open; a token alone, basic alone, or both', () => {
    expect(authOf({ env: {} })).to.equal(undefined);
    expect(authOf({ env: { [TOKEN_VAR]: 'tok' } })).to.deep.equal({ bearerToken: 'tok' });
    expect(authOf({ env: { [BASIC_VAR]: 'prom:pa:ss word' } })).to.deep.equal({
      basic: { username: 'prom', password: 'pa:ss word' },
    });
    expect(authOf({ env: { [TOKEN_VAR]: 'tok', [BASIC_VAR]: 'u:p' } })).to.deep.equal({
      bearerToken: 'tok',
      basic: { username: 'u', password: 'p' },
    });
  });

  it('set but blank is a mistake (an unset secret in a template), never "open"', () => {
    expect(mistake({ env: { [TOKEN_VAR]: '' } })).to.equal(`${TOKEN_VAR} ${NO_SPACES}`);
    expect(mistake({ env: { [TOKEN_VAR]: '   ' } })).to.equal(`${TOKEN_VAR} ${NO_SPACES}`);
    expect(mistake({ env: { [BASIC_VAR]: 'user:   ' } })).to.equal(`${BASIC_VAR} (password) ${NO_CONTROL}`);
  });

  it('basic credentials must be user:password with both parts non-empty', () => {
    for (const raw of ['nocolon', ':password', 'user:', ':', ''])
      expect(mistake({ env: { [BASIC_VAR]: raw } }), raw).to.equal(
        `${BASIC_VAR} must be user:password (both non-empty)`,
      );
    expect(authOf({ env: { [BASIC_VAR]: 'u:p:' } })!.basic).to.deep.equal({ username: 'u', password: 'p:' });
  });
});

describe('core config: native histograms', () => {
  const native = (nativeHistograms: unknown, env: Record<string, string> = {}) =>
    resolveConfig({ env, nativeHistograms: nativeHistograms as never }).nativeHistograms;

  it('off by default and with false; true, {} or the variable turn on the defaults', () => {
    expect(native(undefined)).to.equal(undefined);
    expect(native(false)).to.equal(undefined);
    expect(native(undefined, { TUIST_TELEMETRY_NATIVE_HISTOGRAMS: 'false' })).to.equal(undefined);
    expect(native(true)).to.deep.equal(NATIVE_DEFAULTS);
    expect(native({})).to.deep.equal(NATIVE_DEFAULTS);
    expect(native(undefined, { TUIST_TELEMETRY_NATIVE_HISTOGRAMS: 'true' })).to.deep.equal(NATIVE_DEFAULTS);
  });

  it('bucketFactor above 1 up to 65536; zeroThreshold from 0 to below 1', () => {
    expect(native({ bucketFactor: 65536 })!.bucketFactor).to.equal(65536);
    expect(native({ zeroThreshold: 0 })!.zeroThreshold).to.equal(0);
    expect(native({ zeroThreshold: 0.999 })!.zeroThreshold).to.equal(0.999);
    for (const f of [1, 65536.5, Number.NaN])
      expect(mistake({ env: {}, nativeHistograms: { bucketFactor: f } }), String(f)).to.equal(
        `options.nativeHistograms.bucketFactor must be a number above 1, got ${f}`,
      );
    for (const z of [-0.001, 1, Number.NaN])
      expect(mistake({ env: {}, nativeHistograms: { zeroThreshold: z } }), String(z)).to.equal(
        `options.nativeHistograms.zeroThreshold must be from 0 to below 1, got ${z}`,
      );
  });
});

describe('core config: high-cardinality labels', () => {
  const labels = (options: TelemetryOptions) => [...resolveConfig(options).highCardinality].sort();

  it('a comma list with blanks and empty entries, none, all; the option as a list', () => {
    expect(labels({ env: { TUIST_TELEMETRY_HIGH_CARDINALITY_LABELS: ' object_key , ,upload_id,' } })).to.deep.equal([
      'object_key',
      'upload_id',
    ]);
    expect(labels({ env: { TUIST_TELEMETRY_HIGH_CARDINALITY_LABELS: 'none' } })).to.deep.equal([]);
    expect(labels({ env: {}, highCardinalityLabels: ['none', 'upload_id'] })).to.deep.equal(['upload_id']);
    expect(labels({ env: { TUIST_TELEMETRY_HIGH_CARDINALITY_LABELS: 'all' } })).to.deep.equal([
      'object_key',
      'part_number',
      'upload_id',
    ]);
    expect(labels({ env: {} })).to.deep.equal([]);
  });

  it('an unknown label names where it was set', () => {
    expect(mistake({ env: {}, highCardinalityLabels: ['user_id'] as never })).to.equal(
      'options.highCardinalityLabels: unknown label "user_id"; valid values are object_key, upload_id, part_number, all or none',
    );
  });
});
