import { expect } from 'chai';
import { defaultScriptSrc, htmlAttribute, inlineScriptJson } from '../src/html.js';
import { asksNotToTrack, defaultSectionFor, isHtmlPage, isPageNavigation, pageUrl, pathOf } from '../src/page.js';
import { UserMemory } from '../src/user-memory.js';
import { createAnalytics } from '@tuist-telemetry/analytics';

describe('analytics: utils', function () {
  it('defaultSectionFor', function () {
    expect(defaultSectionFor('/api/docs', false)).to.equal('api-docs');
    expect(defaultSectionFor('/api/docs/runs', true)).to.equal('api-docs');
    expect(defaultSectionFor('/docs/api', false)).to.equal('api-docs');
    expect(defaultSectionFor('/api/docsx', false)).to.equal('marketing');
    expect(defaultSectionFor('/dashboard', false)).to.equal('dashboard');
    expect(defaultSectionFor('/dashboards', false)).to.equal('marketing');
    expect(defaultSectionFor('/tuist/app', true)).to.equal('dashboard');
    expect(defaultSectionFor('/', false)).to.equal('marketing');
  });

  it('defaultScriptSrc: PostHog Cloud assets host, else the host itself', function () {
    expect(defaultScriptSrc('https://eu.i.posthog.com')).to.equal('https://eu-assets.i.posthog.com/static/array.js');
    expect(defaultScriptSrc('https://us.i.posthog.com')).to.equal('https://us-assets.i.posthog.com/static/array.js');
    expect(defaultScriptSrc('https://ph.example.com/proxy/')).to.equal('https://ph.example.com/proxy/static/array.js');
  });

  it('inlineScriptJson and htmlAttribute', function () {
    const json = inlineScriptJson({ s: '</script><!-- & \u2028\u2029' });
    expect(json).not.to.match(/[<>&\u2028\u2029]/);
    expect(JSON.parse(json)).to.deep.equal({ s: '</script><!-- & \u2028\u2029' });
    expect(htmlAttribute(`a"b'c<d>e&f`)).to.equal('a&quot;b&#39;c&lt;d&gt;e&amp;f');
  });

  it('isPageNavigation, asksNotToTrack, isHtmlPage', function () {
    expect(isPageNavigation('GET', { 'sec-fetch-mode': 'navigate' })).to.equal(true);
    expect(isPageNavigation('GET', { 'sec-fetch-dest': 'document', 'sec-fetch-mode': 'same-origin' })).to.equal(true);
    expect(isPageNavigation('GET', { 'sec-fetch-mode': 'cors', accept: 'text/html' })).to.equal(false);
    expect(isPageNavigation('GET', { accept: 'application/json, text/html;q=0.5' })).to.equal(true);
    expect(isPageNavigation('GET', { accept: 'application/json' })).to.equal(false);
    expect(isPageNavigation('HEAD', { 'sec-fetch-mode': 'navigate' })).to.equal(false);
    expect(isPageNavigation('GET', { 'sec-fetch-mode': 'navigate', purpose: 'prefetch' })).to.equal(false);
    expect(asksNotToTrack({ dnt: '1' })).to.equal(true);
    expect(asksNotToTrack({ 'sec-gpc': '1' })).to.equal(true);
    expect(asksNotToTrack({ dnt: '0' })).to.equal(false);
    expect(isHtmlPage(200, 'text/html; charset=utf-8')).to.equal(true);
    expect(isHtmlPage(304, 'text/html')).to.equal(false);
    expect(isHtmlPage(200, undefined)).to.equal(false);
  });

  it('pathOf and pageUrl drop the query string', function () {
    expect(pathOf('/a/b?token=1#x')).to.equal('/a/b');
    expect(pathOf(undefined)).to.equal('/');
    expect(pageUrl({ url: '/p?token=1', headers: { host: 'tuist.dev' } })).to.equal('http://tuist.dev/p');
    expect(
      pageUrl({
        url: '/p',
        headers: { host: 'internal:8080', 'x-forwarded-host': 'tuist.dev', 'x-forwarded-proto': 'https' },
      }),
    ).to.equal('https://tuist.dev/p');
    expect(pageUrl({ url: '/p', headers: { host: 'tuist.dev' }, socket: { encrypted: true } })).to.equal(
      'https://tuist.dev/p',
    );
  });

  it('UserMemory forgets the least recently seen user', function () {
    const m = new UserMemory(2);
    m.upsert('a').groups.project = '1';
    m.upsert('b');
    m.get('a'); // a is now the most recent
    m.upsert('c');
    expect(m.size).to.equal(2);
    expect(m.get('b')).to.equal(undefined);
    expect(m.get('a')?.groups).to.deep.equal({ project: '1' });
    const none = new UserMemory(0);
    none.upsert('x').groups.project = '1';
    expect(none.size).to.equal(0);
  });
});

describe('analytics: ignoreRequest', function () {
  it('matches the PostHog origin, and only the proxy path when the host has one', async function () {
    const cloud = createAnalytics({ apiKey: 'k', host: 'https://eu.i.posthog.com', env: {}, telemetry: null });
    expect(cloud.ignoreRequest('https://eu.i.posthog.com', '/batch/')).to.equal(true);
    expect(cloud.ignoreRequest('https://eu.i.posthog.com:443', '/batch/')).to.equal(true);
    expect(cloud.ignoreRequest('https://us.i.posthog.com', '/batch/')).to.equal(false);
    const proxied = createAnalytics({ apiKey: 'k', host: 'https://tuist.dev/ingest/', env: {}, telemetry: null });
    expect(proxied.ignoreRequest('https://tuist.dev', '/ingest/batch/')).to.equal(true);
    expect(proxied.ignoreRequest('https://tuist.dev', '/api/runs')).to.equal(false);
    expect(proxied.ignoreRequest('https://tuist.dev', '/ingestion')).to.equal(false);
    await Promise.all([cloud.shutdown(), proxied.shutdown()]);
  });
});
