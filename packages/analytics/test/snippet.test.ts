import { expect } from 'chai';
import { existsSync } from 'node:fs';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { requireService } from '@tuist-telemetry/testing';
import { createAnalytics, type Analytics } from '@tuist-telemetry/analytics';
import { inlineScriptJson } from '../src/html.js';
import { Ingestion } from './ingestion.js';

const CHROMIUM = process.env.CHROMIUM_BIN ?? '/usr/bin/chromium';
const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  // posthog-js drops events when navigator.webdriver is true (it is under automation).
  '--disable-blink-features=AutomationControlled',
];
const EVIL = '</script><script>window.__pwned = 1</script><!--\u2028"\'';

describe('analytics: browserSnippet', function () {
  it('escapes every value for an inline script', function () {
    const analytics = createAnalytics({
      apiKey: 'phc_"</script>',
      host: 'https://eu.i.posthog.com',
      env: {},
      telemetry: null,
    });
    const html = analytics.browserSnippet({
      section: 'dashboard',
      user: { id: 'u1', email: 'a@b.c', accountName: EVIL },
      project: { id: 1, name: EVIL },
      nonce: 'n"><script>',
    });
    expect(html.match(/<\/script/gi)).to.have.length(1);
    expect(html.endsWith('</script>')).to.equal(true);
    expect(html).not.to.include('<!--');
    expect(html).not.to.include('\u2028');
    expect(html.startsWith('<script nonce="n&quot;&gt;&lt;script&gt;">')).to.equal(true);
    expect(html).to.include('"src":"https://eu-assets.i.posthog.com/static/array.js"');
    expect(inlineScriptJson({ a: '<&>\u2028\u2029' })).to.equal('{"a":"\\u003c\\u0026\\u003e\\u2028\\u2029"}');
  });

  it('loads posthog-js from scriptSrc when given', function () {
    const analytics = createAnalytics({
      apiKey: 'k',
      host: 'https://posthog.example.com',
      scriptSrc: '/assets/posthog.js',
      env: {},
      telemetry: null,
    });
    expect(analytics.browserSnippet({ section: 'marketing' })).to.include('"src":"/assets/posthog.js"');
    expect(analytics.browserSnippet({ section: 'marketing', scriptSrc: '/other.js' })).to.include('"src":"/other.js"');
    const selfHosted = createAnalytics({ apiKey: 'k', host: 'https://posthog.example.com/', env: {}, telemetry: null });
    expect(selfHosted.browserSnippet({ section: 'marketing' })).to.include(
      '"src":"https://posthog.example.com/static/array.js"',
    );
  });
});

describe('analytics: browserSnippet in headless Chromium with posthog-js', function () {
  let browser: Browser;
  let ingestion: Ingestion;
  let analytics: Analytics;
  let context: BrowserContext | undefined;
  let userAgent: string;

  before(async function () {
    requireService(
      this,
      'Chromium',
      existsSync(CHROMIUM),
      `${CHROMIUM} not found; install Debian's chromium or set CHROMIUM_BIN`,
    );
    // Playwright gives every launch a fresh temporary --user-data-dir of its own.
    browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS, headless: true });
    // posthog-js drops events from bot-like user agents, headless Chromium's included: present a regular one.
    const probe = await browser.newPage();
    userAgent = (await probe.evaluate(() => navigator.userAgent)).replace('HeadlessChrome', 'Chrome');
    await probe.close();
  });
  after(async function () {
    await browser?.close();
  });
  beforeEach(async function () {
    ingestion = await Ingestion.start();
    analytics = createAnalytics({ apiKey: 'phc_browser', host: ingestion.url, env: {}, telemetry: null });
  });
  afterEach(async function () {
    await context?.close();
    context = undefined;
    await analytics.shutdown();
    await ingestion.close();
  });

  async function open(
    path: string,
    html: string,
    headers?: Record<string, string>,
  ): Promise<{ page: Page; errors: string[] }> {
    const url = ingestion.page(path, { html, headers });
    context = await browser.newContext({ userAgent });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    await page.goto(url);
    return { page, errors };
  }

  it('anonymous visitor: events carry page_section; no cookie, no localStorage or sessionStorage entry (CSP nonce)', async function () {
    const nonce = 'r4nd0mN0nce';
    const snippet = analytics.browserSnippet({ section: 'marketing', nonce });
    const { page, errors } = await open(
      '/pricing',
      `<!doctype html><html><head>${snippet}</head><body><h1>Pricing</h1></body></html>`,
      {
        'content-security-policy': `script-src 'nonce-${nonce}'`,
      },
    );
    await ingestion.waitFor((events) => events.some((e) => e.event === '$pageview' && e.source === 'browser'));
    await page.evaluate(() =>
      (window as unknown as { posthog: { capture(e: string): void } }).posthog.capture('cta_clicked'),
    );
    await ingestion.waitFor((events) => events.some((e) => e.event === 'cta_clicked'));

    const browserEvents = ingestion.events.filter((e) => e.source === 'browser');
    for (const e of browserEvents) {
      expect(e.properties.page_section, e.event).to.equal('marketing');
      expect(e.api_key).to.equal('phc_browser');
    }
    const pageview = ingestion.named('$pageview', 'browser')[0]!;
    expect(pageview.properties.$current_url).to.equal(ingestion.url + '/pricing');
    expect(pageview.properties.$process_person_profile).to.equal(false);
    expect(browserEvents.map((e) => e.event)).not.to.include.members(['$identify', '$create_alias', '$groupidentify']);

    expect(await context!.cookies()).to.deep.equal([]);
    const storage = await page.evaluate(() => ({
      local: localStorage.length,
      session: sessionStorage.length,
      cookie: document.cookie,
    }));
    expect(storage).to.deep.equal({ local: 0, session: 0, cookie: '' });
    expect(errors.filter((e) => /Content Security Policy/i.test(e))).to.deep.equal([]);
  });

  it('signed-in user: identify with email, alias, project and organization groups; an injected </script> stays inert', async function () {
    const snippet = analytics.browserSnippet({
      section: 'dashboard',
      user: { id: 'user-42', email: 'ada@tuist.dev', accountName: EVIL },
      project: { id: 7, name: 'App' },
      organization: { id: 3, name: EVIL },
    });
    const { page } = await open(
      '/tuist/app',
      `<!doctype html><html><head>${snippet}</head><body><h1>Dashboard</h1></body></html>`,
    );
    await ingestion.waitFor(
      (events) =>
        events.some((e) => e.event === '$create_alias') &&
        events.filter((e) => e.event === '$groupidentify').length >= 2 &&
        events.some((e) => e.event === '$pageview'),
    );

    const browserEvents = ingestion.events.filter((e) => e.source === 'browser');
    for (const e of browserEvents) {
      expect(e.properties.page_section, e.event).to.equal('dashboard');
      expect(e.distinct_id, e.event).to.equal('user-42');
    }
    // With bootstrap.distinctID already the user's id, posthog-js sends the email as a $set (not $identify).
    const personUpdate = browserEvents.find(
      (e) => (e.event === '$identify' || e.event === '$set') && e.properties.$set?.email,
    );
    expect(personUpdate, JSON.stringify(browserEvents.map((e) => e.event))).to.not.equal(undefined);
    expect(personUpdate!.properties.$set.email).to.equal('ada@tuist.dev');
    expect(ingestion.named('$create_alias')[0]!.properties.alias).to.equal(EVIL);
    const groups = ingestion
      .named('$groupidentify')
      .map((e) => [e.properties.$group_type, e.properties.$group_key, e.properties.$group_set?.name]);
    expect(groups).to.deep.include.members([
      ['project', '7', 'App'],
      ['organization', '3', EVIL],
    ]);
    const pageview = ingestion.named('$pageview')[0]!;
    expect(pageview.properties.$groups).to.deep.equal({ project: '7', organization: '3' });

    expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).to.equal(undefined);
    // The only inline script is the snippet itself: the injected markup did not become an element.
    const inline = await page.evaluate(() =>
      [...document.querySelectorAll('script:not([src])')].map((s) => s.textContent ?? ''),
    );
    expect(inline).to.have.length(1);
    expect(inline[0]).to.include('\\u003c/script\\u003e\\u003cscript\\u003ewindow.__pwned = 1');
  });
});
