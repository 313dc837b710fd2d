import { expect } from 'chai';
import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createAnalytics, type Analytics, type MiddlewareOptions, type RequestUser } from '@tuist-telemetry/analytics';
import { collectDiag, Ingestion } from './helpers.js';

const NAVIGATE = {
  accept: 'text/html,application/xhtml+xml',
  'sec-fetch-mode': 'navigate',
  'sec-fetch-dest': 'document',
};

describe('analytics: middleware', function () {
  let ingestion: Ingestion;
  let server: Server | undefined;

  beforeEach(async function () {
    ingestion = await Ingestion.start();
  });
  afterEach(async function () {
    if (server) await new Promise((r) => server!.close(r));
    server = undefined;
    await ingestion.close();
  });

  /** A node:http app: the middleware, then a handler answering HTML (or JSON under /api/, 404 under /missing). */
  async function app(
    analytics: Analytics,
    options?: MiddlewareOptions<IncomingMessage & { user?: RequestUser }>,
  ): Promise<number> {
    const middleware = analytics.middleware(options);
    server = createServer((req, res) => {
      middleware(req, res, () => {
        if (req.url?.startsWith('/api/') && !req.url.startsWith('/api/docs')) {
          res.setHeader('content-type', 'application/json');
          res.end('{}');
        } else if (req.url === '/missing') {
          res.statusCode = 404;
          res.setHeader('content-type', 'text/html');
          res.end('<h1>Not found</h1>');
        } else {
          res.setHeader('content-type', 'text/html; charset=utf-8');
          res.end('<h1>page</h1>');
        }
      });
    });
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
    return (server.address() as AddressInfo).port;
  }

  function get(
    port: number,
    path: string,
    headers: Record<string, string>,
    method = 'GET',
  ): Promise<IncomingMessage['headers']> {
    return new Promise((resolve, reject) => {
      request({ host: '127.0.0.1', port, path, method, headers }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.headers));
      })
        .on('error', reject)
        .end();
    });
  }

  function analyticsFor(): Analytics {
    return createAnalytics({ apiKey: 'phc_key', host: ingestion.url, env: {}, telemetry: null });
  }

  it('captures a $pageview per HTML page navigation with the default sections; skips the rest', async function () {
    const analytics = analyticsFor();
    const port = await app(analytics);
    const answer = await get(port, '/pricing?token=secret', {
      ...NAVIGATE,
      host: 'tuist.dev',
      referer: 'https://google.com/',
    });
    expect(answer).not.to.have.property('set-cookie'); // anonymous visitors get no cookie
    await get(port, '/api/docs/runs', { accept: 'text/html' }); // no fetch metadata: Accept decides
    await get(port, '/docs/api', { ...NAVIGATE, host: 'tuist.dev', 'x-forwarded-proto': 'https' });
    await get(port, '/dashboard/settings', NAVIGATE);
    await get(port, '/api/runs', NAVIGATE); // JSON response
    await get(port, '/missing', NAVIGATE); // 404
    await get(port, '/pricing', NAVIGATE, 'POST');
    await get(port, '/pricing', { accept: '*/*', 'sec-fetch-mode': 'cors', 'sec-fetch-dest': 'empty' }); // fetch() from a page
    await get(port, '/pricing', { ...NAVIGATE, 'sec-purpose': 'prefetch' });
    await get(port, '/pricing', { ...NAVIGATE, dnt: '1' });
    await get(port, '/pricing', { ...NAVIGATE, 'sec-gpc': '1' });
    await analytics.shutdown();

    const views = ingestion.named('$pageview').map((e) => [e.properties.$current_url, e.properties.page_section]);
    expect(views).to.deep.equal([
      ['http://tuist.dev/pricing', 'marketing'],
      [`http://127.0.0.1:${port}/api/docs/runs`, 'api-docs'],
      ['https://tuist.dev/docs/api', 'api-docs'],
      [`http://127.0.0.1:${port}/dashboard/settings`, 'dashboard'],
    ]);
    const first = ingestion.named('$pageview')[0]!;
    expect(first.properties).to.include({
      $referrer: 'https://google.com/',
      $process_person_profile: false,
      $pathname: '/pricing',
    });
    expect(ingestion.events.filter((e) => e.event !== '$pageview')).to.deep.equal([]);
  });

  it('attributes pages to the signed-in user, identifies them once and follows their groups', async function () {
    const analytics = analyticsFor();
    const port = await app(analytics, {
      userFor: (req) =>
        req.headers['x-user']
          ? {
              id: String(req.headers['x-user']),
              email: 'ada@tuist.dev',
              accountName: 'ada',
              project: { id: 7, name: 'App' },
            }
          : undefined,
    });
    await get(port, '/tuist/app', { ...NAVIGATE, 'x-user': '42' });
    await get(port, '/tuist/app/runs', { ...NAVIGATE, 'x-user': '42' });
    await get(port, '/pricing', NAVIGATE);
    await analytics.shutdown();

    expect(ingestion.events.map((e) => [e.event, e.distinct_id])).to.deep.equal([
      ['$identify', '42'],
      ['$create_alias', '42'],
      ['$groupidentify', '42'],
      ['$pageview', '42'],
      ['$pageview', '42'],
      ['$pageview', ingestion.named('$pageview')[2]!.distinct_id],
    ]);
    const [, mine, alsoMine, anonymous] = [null, ...ingestion.named('$pageview')];
    expect(mine!.properties).to.deep.include({ page_section: 'dashboard', $groups: { project: '7' } });
    expect(alsoMine!.properties.$groups).to.deep.equal({ project: '7' });
    expect(anonymous!.properties).to.include({ page_section: 'marketing', $process_person_profile: false });
    expect(anonymous!.distinct_id).not.to.equal('42');
  });

  it('uses sectionFor, can ignore DNT when told, and survives throwing hooks', async function () {
    const diag = collectDiag();
    try {
      const analytics = analyticsFor();
      const port = await app(analytics, {
        sectionFor: (path) => {
          if (path === '/boom') throw new Error('sectionFor exploded');
          return path.startsWith('/handbook') ? 'api-docs' : 'marketing';
        },
        honourDoNotTrack: false,
      });
      await get(port, '/handbook/intro', { ...NAVIGATE, dnt: '1' });
      await get(port, '/boom', NAVIGATE);
      await analytics.shutdown();
      expect(
        ingestion.named('$pageview').map((e) => [e.properties.$pathname, e.properties.page_section]),
      ).to.deep.equal([['/handbook/intro', 'api-docs']]);
      expect(diag.messages.some((m) => m.includes('sectionFor threw') && m.includes('sectionFor exploded'))).to.equal(
        true,
      );
    } finally {
      diag.restore();
    }
  });

  it('reads req.user by default and calls next() when disabled', async function () {
    const enabled = analyticsFor();
    const middleware = enabled.middleware();
    server = createServer((req, res) => {
      (req as IncomingMessage & { user?: RequestUser }).user = { id: 'u7' }; // set by an auth layer before the page renders
      middleware(req, res, () => {
        res.setHeader('content-type', 'text/html');
        res.end('ok');
      });
    });
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
    await get((server.address() as AddressInfo).port, '/anything', NAVIGATE);
    await enabled.shutdown();
    expect(ingestion.named('$pageview').map((e) => [e.distinct_id, e.properties.page_section])).to.deep.equal([
      ['u7', 'dashboard'],
    ]);

    const disabled = createAnalytics({ env: {}, telemetry: null });
    let nextCalled = false;
    disabled.middleware()(
      { method: 'GET', url: '/', headers: NAVIGATE },
      { statusCode: 200, getHeader: () => 'text/html', once: () => undefined },
      () => {
        nextCalled = true;
      },
    );
    expect(nextCalled).to.equal(true);
  });
  it('sees the Content-Type of pages written with res.writeHead(status, headers), in every header form', async function () {
    const analytics = analyticsFor();
    const middleware = analytics.middleware();
    server = createServer((req, res) => {
      middleware(req, res, () => {
        if (req.url === '/object') res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' }).end('<p>a</p>');
        else if (req.url === '/reason-flat') res.writeHead(200, 'OK', ['content-type', 'text/html']).end('<p>b</p>');
        else if (req.url === '/pairs') res.writeHead(200, [['Content-Type', 'text/html']]).end('<p>c</p>');
        else res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    for (const path of ['/object', '/reason-flat', '/pairs', '/json']) await get(port, path, NAVIGATE);
    await analytics.shutdown();
    expect(ingestion.named('$pageview').map((e) => e.properties.$pathname)).to.deep.equal([
      '/object',
      '/reason-flat',
      '/pairs',
    ]);
  });
});
