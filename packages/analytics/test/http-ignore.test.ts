import { expect } from 'chai';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Telemetry } from '@tuist-telemetry/core';
import { instrumentUndici } from '@tuist-telemetry/http';
import { scrape, sum } from '@tuist-telemetry/testing';
import { createAnalytics } from '@tuist-telemetry/analytics';
import { Ingestion, startLocal } from './helpers.js';

describe('analytics: PostHog traffic stays out of the tuist_http_* metrics', function () {
  let telemetry: Telemetry;
  let ingestion: Ingestion;
  let other: Server;
  let uninstall: (() => void) | undefined;

  before(async function () {
    telemetry = startLocal();
    await telemetry.ready();
    ingestion = await Ingestion.start();
    other = createServer((_req, res) => res.end('ok'));
    await new Promise<void>((r) => other.listen(0, '127.0.0.1', r));
  });
  after(async function () {
    uninstall?.();
    await ingestion.close();
    await new Promise((r) => other.close(r));
    await telemetry.shutdown();
  });

  it('passing analytics.ignoreRequest as the http package ignore option', async function () {
    const analytics = createAnalytics({ apiKey: 'phc_key', host: ingestion.url, env: {}, telemetry });
    uninstall = instrumentUndici({ telemetry, ignore: analytics.ignoreRequest });
    analytics.capture({ event: 'measured_elsewhere', section: 'dashboard', distinctId: 'u1' });
    await analytics.shutdown();
    expect(ingestion.named('measured_elsewhere')).to.have.length(1);
    const otherHost = `127.0.0.1:${(other.address() as AddressInfo).port}`;
    await (await fetch(`http://${otherHost}/`)).text();

    // Both servers are on 127.0.0.1 (same request_host label): count requests instead. PostHog got its batch, the
    // metrics saw only the other request.
    expect(ingestion.requests.filter((r) => r.path === '/batch/')).to.have.length(1);
    expect(sum(await scrape(telemetry.url!), 'tuist_http_request_count')).to.equal(1);
  });

  it('without any ignore option: analytics registers its host with the running telemetry, which the http package honours', async function () {
    uninstall?.();
    const before = sum(await scrape(telemetry.url!), 'tuist_http_request_count');
    const batches = ingestion.requests.filter((r) => r.path === '/batch/').length;
    uninstall = instrumentUndici({ telemetry });
    const analytics = createAnalytics({ apiKey: 'phc_key', host: ingestion.url, env: {}, telemetry });
    analytics.capture({ event: 'automatically_excluded', section: 'marketing' });
    await analytics.shutdown();
    expect(ingestion.named('automatically_excluded')).to.have.length(1);
    expect(ingestion.requests.filter((r) => r.path === '/batch/')).to.have.length(batches + 1);
    await (await fetch(`http://127.0.0.1:${(other.address() as AddressInfo).port}/`)).text();
    expect(sum(await scrape(telemetry.url!), 'tuist_http_request_count')).to.equal(before + 1);
    // After shutdown the exclusion is gone: the same host is measured like any other.
    await fetch(`${ingestion.url}/decide/`)
      .then((r) => r.text())
      .catch(() => '');
    // (+1 for the scrape just above, which went through the instrumented global fetch too.)
    expect(sum(await scrape(telemetry.url!), 'tuist_http_request_count')).to.equal(before + 3);
  });
});
