import { expect } from 'chai';
import type { Telemetry } from '@tuist-telemetry/core';
import { scrape, sum, value } from '@tuist-telemetry/testing';
import { createAnalytics, AnalyticsConfigError, type Analytics } from '@tuist-telemetry/analytics';
import { collectDiag, Ingestion, startLocal } from './helpers.js';

const DROPPED = 'tuist_analytics_events_dropped_total';

describe('analytics: events sent to PostHog', function () {
  let telemetry: Telemetry;
  let ingestion: Ingestion;

  before(async function () {
    telemetry = startLocal();
    await telemetry.ready();
  });
  after(async function () {
    await telemetry.shutdown();
  });
  beforeEach(async function () {
    ingestion = await Ingestion.start();
  });
  afterEach(async function () {
    await ingestion.close();
  });

  function analyticsFor(extra: Parameters<typeof createAnalytics>[0] = {}): Analytics {
    return createAnalytics({
      env: { TUIST_POSTHOG_API_KEY: 'phc_key', TUIST_POSTHOG_URL: ingestion.url },
      telemetry,
      ...extra,
    });
  }

  it('identifies by id with the email, aliases the account name, and sends groups on later events', async function () {
    const analytics = analyticsFor();
    analytics.identify({ id: 42, email: 'ada@tuist.dev', accountName: 'ada' });
    analytics.group({ distinctId: 42, project: { id: 7, name: 'App' }, organization: { id: 3, name: 'Tuist' } });
    analytics.capture({ event: 'run_viewed', section: 'dashboard', distinctId: 42, properties: { run: 'r1' } });
    await analytics.shutdown();

    const events = ingestion.events;
    expect(events.map((e) => e.event)).to.deep.equal([
      '$identify',
      '$create_alias',
      '$groupidentify',
      '$groupidentify',
      'run_viewed',
    ]);
    for (const e of events) {
      expect(e.source).to.equal('node');
      expect(e.api_key).to.equal('phc_key');
      expect(e.distinct_id).to.equal('42');
      expect(e.properties.page_section).to.equal('dashboard');
      expect(e.properties).not.to.have.property('$process_person_profile');
    }
    const [identify, alias, project, organization, run] = events as [
      (typeof events)[0],
      (typeof events)[0],
      (typeof events)[0],
      (typeof events)[0],
      (typeof events)[0],
    ];
    expect(identify.properties.$set).to.deep.equal({ email: 'ada@tuist.dev' });
    expect(alias.properties).to.include({ distinct_id: '42', alias: 'ada' });
    expect(project.properties).to.deep.include({
      $group_type: 'project',
      $group_key: '7',
      $group_set: { name: 'App' },
    });
    expect(organization.properties).to.deep.include({
      $group_type: 'organization',
      $group_key: '3',
      $group_set: { name: 'Tuist' },
    });
    expect(run.properties.run).to.equal('r1');
    expect(run.properties.$groups).to.deep.equal({ project: '7', organization: '3' });
  });

  it('lets an event override a remembered group and keeps groups per user', async function () {
    const analytics = analyticsFor();
    analytics.group({ distinctId: 'u1', project: { id: 'p1' } });
    analytics.capture({ event: 'a', section: 'dashboard', distinctId: 'u1', groups: { project: 'p2' } });
    analytics.capture({ event: 'b', section: 'dashboard', distinctId: 'u2' });
    await analytics.shutdown();
    expect(ingestion.named('a')[0]!.properties.$groups).to.deep.equal({ project: 'p2' });
    expect(ingestion.named('b')[0]!.properties).not.to.have.property('$groups');
  });

  it('forgets the least recently seen user beyond maxRememberedUsers', async function () {
    const analytics = analyticsFor({ maxRememberedUsers: 2 });
    analytics.group({ distinctId: 'u1', project: { id: 1 } });
    analytics.group({ distinctId: 'u2', project: { id: 2 } });
    analytics.group({ distinctId: 'u3', project: { id: 3 } });
    for (const u of ['u1', 'u2', 'u3']) analytics.capture({ event: `seen_${u}`, section: 'dashboard', distinctId: u });
    await analytics.shutdown();
    expect(ingestion.named('seen_u1')[0]!.properties).not.to.have.property('$groups');
    expect(ingestion.named('seen_u2')[0]!.properties.$groups).to.deep.equal({ project: '2' });
    expect(ingestion.named('seen_u3')[0]!.properties.$groups).to.deep.equal({ project: '3' });
  });

  it('sends anonymous events with a random id and no person profile', async function () {
    const analytics = analyticsFor();
    analytics.capture({ event: 'pricing_viewed', section: 'marketing' });
    analytics.capture({ event: 'pricing_viewed', section: 'marketing' });
    await analytics.shutdown();
    const [a, b] = ingestion.named('pricing_viewed');
    expect(a!.properties).to.include({ $process_person_profile: false, page_section: 'marketing' });
    expect(a!.properties).not.to.have.property('$set');
    expect(a!.distinct_id).to.match(/^[0-9a-f-]{36}$/);
    expect(b!.distinct_id).not.to.equal(a!.distinct_id);
  });

  it('sends $pageview with the URL, host, path and referrer', async function () {
    const analytics = analyticsFor();
    analytics.pageview({
      url: 'https://tuist.dev/docs/api/runs',
      section: 'api-docs',
      referrer: 'https://google.com/',
    });
    analytics.pageview({ url: 'https://tuist.dev/tuist/app', section: 'dashboard', distinctId: 'u1' });
    await analytics.shutdown();
    const [anon, user] = ingestion.named('$pageview');
    expect(anon!.properties).to.include({
      $current_url: 'https://tuist.dev/docs/api/runs',
      $host: 'tuist.dev',
      $pathname: '/docs/api/runs',
      $referrer: 'https://google.com/',
      page_section: 'api-docs',
      $process_person_profile: false,
    });
    expect(user!.distinct_id).to.equal('u1');
    expect(user!.properties).to.include({ $current_url: 'https://tuist.dev/tuist/app', page_section: 'dashboard' });
  });

  it('sends the Tuist server events under their names, with the user id and groups', async function () {
    const analytics = analyticsFor();
    analytics.userCreated({ userId: 1 });
    analytics.userAuthenticated({ userId: 1, properties: { method: 'github' } });
    analytics.organizationCreated({ userId: 1, organization: { id: 10, name: 'Tuist' } });
    analytics.previewUploaded({ userId: 1, project: { id: 5 }, organization: { id: 10 }, previewId: 'pv1' });
    analytics.previewDownloaded({ project: { id: 5 }, previewId: 'pv1', section: 'marketing' });
    analytics.tokenRefreshError({ userId: 1, reason: 'expired' });
    await analytics.shutdown();
    const byName = new Map(ingestion.events.map((e) => [e.event, e]));
    expect([...byName.keys()]).to.deep.equal([
      'user_create',
      'user_authenticate',
      'organization_create',
      'preview_upload',
      'preview_download',
      'authentication_token_refresh_error',
    ]);
    expect(byName.get('user_create')!.distinct_id).to.equal('1');
    expect(byName.get('user_authenticate')!.properties).to.include({ method: 'github', page_section: 'dashboard' });
    expect(byName.get('organization_create')!.properties.$groups).to.deep.equal({ organization: '10' });
    expect(byName.get('preview_upload')!.properties).to.deep.include({
      preview_id: 'pv1',
      $groups: { project: '5', organization: '10' },
    });
    expect(byName.get('preview_download')!.properties).to.include({
      $process_person_profile: false,
      page_section: 'marketing',
    });
    expect(byName.get('authentication_token_refresh_error')!.properties).to.include({ reason: 'expired' });
  });

  it('rejects another page section with one warning, sends nothing and counts the drop', async function () {
    const diag = collectDiag();
    try {
      const before = sum(await scrape(telemetry.url!), DROPPED, { reason: 'invalid_section' });
      const analytics = analyticsFor();
      analytics.capture({ event: 'x', section: 'blog' as never });
      analytics.capture({ event: 'y', section: 'Dashboard' as never });
      analytics.pageview({ url: 'https://tuist.dev/', section: undefined as never });
      analytics.capture({ event: 'ok', section: 'marketing' });
      expect(analytics.browserSnippet({ section: 'admin' as never })).to.equal('');
      await analytics.shutdown();
      expect(ingestion.events.map((e) => e.event)).to.deep.equal(['ok']);
      const warnings = diag.messages.filter((m) => m.includes('page section'));
      expect(warnings).to.have.length(1);
      expect(warnings[0]).to.include('"blog"');
      expect(value(await scrape(telemetry.url!), DROPPED, { reason: 'invalid_section' })).to.equal(before + 4);
    } finally {
      diag.restore();
    }
  });

  it('never throws into the caller on bad input', async function () {
    const analytics = analyticsFor();
    expect(() => analytics.capture(undefined as never)).not.to.throw();
    expect(() => analytics.capture({ event: '', section: 'marketing' })).not.to.throw();
    expect(() => analytics.identify({} as never)).not.to.throw();
    expect(() => analytics.group({ distinctId: 'u', project: {} as never })).not.to.throw();
    expect(() => analytics.pageview({ url: 'not a url', section: 'marketing' })).not.to.throw();
    const circular: Record<string, unknown> = { a: 1 };
    circular.self = circular;
    expect(() => analytics.capture({ event: 'circular', section: 'marketing', properties: circular })).not.to.throw();
    await analytics.shutdown();
    expect(ingestion.events.map((e) => e.event)).to.deep.equal(['circular']);
  });

  it('drops events captured after shutdown and counts them', async function () {
    const analytics = analyticsFor();
    await analytics.shutdown();
    const before = sum(await scrape(telemetry.url!), DROPPED, { reason: 'shutdown' });
    analytics.capture({ event: 'late', section: 'marketing' });
    expect(value(await scrape(telemetry.url!), DROPPED, { reason: 'shutdown' })).to.equal(before + 1);
    expect(ingestion.events).to.have.length(0);
  });

  it('flushes on telemetry shutdown (registered with onShutdown)', async function () {
    const own = startLocal();
    const analytics = analyticsFor({ telemetry: own, flushIntervalMs: 60_000 });
    analytics.capture({ event: 'flushed_by_telemetry', section: 'dashboard', distinctId: 'u1' });
    expect(ingestion.events).to.have.length(0);
    await own.shutdown();
    expect(ingestion.named('flushed_by_telemetry')).to.have.length(1);
  });
});

describe('analytics: gating on TUIST_POSTHOG_API_KEY and TUIST_POSTHOG_URL', function () {
  let ingestion: Ingestion;
  beforeEach(async function () {
    ingestion = await Ingestion.start();
  });
  afterEach(async function () {
    await ingestion.close();
  });

  function timers(): number {
    return process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
  }

  async function exercise(analytics: Analytics): Promise<void> {
    analytics.identify({ id: 'u', email: 'u@x.dev' });
    analytics.capture({ event: 'e', section: 'marketing' });
    analytics.pageview({ url: 'https://tuist.dev/', section: 'marketing' });
    await analytics.shutdown();
  }

  for (const [name, env, warning] of [
    [
      'only the key',
      (_url: string) => ({ TUIST_POSTHOG_API_KEY: 'phc_key' }),
      /TUIST_POSTHOG_API_KEY \(options\.apiKey\) is set but TUIST_POSTHOG_URL/,
    ],
    [
      'only the URL',
      (url: string) => ({ TUIST_POSTHOG_URL: url }),
      /TUIST_POSTHOG_URL \(options\.host\) is set but TUIST_POSTHOG_API_KEY/,
    ],
    ['a blank key', (url: string) => ({ TUIST_POSTHOG_API_KEY: '  ', TUIST_POSTHOG_URL: url }), undefined],
  ] as const) {
    it(`is disabled with ${name}: same API, no connection, no timer, empty snippet`, async function () {
      const timersBefore = timers();
      const d = collectDiag();
      const analytics = createAnalytics({ env: env(ingestion.url), telemetry: null });
      d.restore();
      // Half a configuration says which half is missing, once.
      if (warning)
        expect(d.messages.length === 1 && warning.test(d.messages[0]!), d.messages.join('\n')).to.equal(true);
      else expect(d.messages).to.deep.equal([]);
      expect(analytics.enabled).to.equal(false);
      expect(analytics.origin).to.equal(undefined);
      expect(analytics.ignoreRequest(ingestion.url, '/batch/')).to.equal(false);
      analytics.capture({ event: 'e', section: 'marketing' });
      expect(timers()).to.equal(timersBefore);
      expect(analytics.browserSnippet({ section: 'marketing' })).to.equal('');
      await exercise(analytics);
      expect(ingestion.connections).to.equal(0);
      expect(ingestion.events).to.have.length(0);
    });
  }

  it('is enabled with both, from the environment or from options', async function () {
    const fromEnv = createAnalytics({
      env: { TUIST_POSTHOG_API_KEY: 'phc_env', TUIST_POSTHOG_URL: ingestion.url + '/' },
      telemetry: null,
    });
    expect(fromEnv.enabled).to.equal(true);
    expect(fromEnv.origin).to.equal(ingestion.url);
    expect(fromEnv.ignoreRequest(ingestion.url, '/batch/')).to.equal(true);
    expect(fromEnv.ignoreRequest('http://127.0.0.1:1', '/batch/')).to.equal(false);
    await exercise(fromEnv);
    const fromOptions = createAnalytics({ apiKey: 'phc_opt', host: ingestion.url, env: {}, telemetry: null });
    expect(fromOptions.enabled).to.equal(true);
    await exercise(fromOptions);
    expect(new Set(ingestion.events.map((e) => e.api_key))).to.deep.equal(new Set(['phc_env', 'phc_opt']));
    expect(ingestion.events).to.have.length(6);
  });

  it('throws at start-up on a malformed URL or option, saying what to change', function () {
    expect(() =>
      createAnalytics({ env: { TUIST_POSTHOG_API_KEY: 'k', TUIST_POSTHOG_URL: 'eu.i.posthog.com' } }),
    ).to.throw(AnalyticsConfigError, /TUIST_POSTHOG_URL must be an absolute http\(s\) URL/);
    expect(() => createAnalytics({ env: {}, host: 'ftp://x' })).to.throw(
      AnalyticsConfigError,
      /options.host must use http or https/,
    );
    expect(() => createAnalytics({ env: {}, shutdownTimeoutMs: -1 })).to.throw(
      AnalyticsConfigError,
      /shutdownTimeoutMs must be an integer/,
    );
    expect(() => createAnalytics({ env: {}, flushAt: 50, maxQueueSize: 10 })).to.throw(
      AnalyticsConfigError,
      /maxQueueSize \(10\) must be at least options.flushAt \(50\)/,
    );
  });
});
