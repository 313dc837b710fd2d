import { expect } from 'chai';
import diagnosticsChannel from 'node:diagnostics_channel';
import { getGlobalDispatcher, request } from 'undici';
import { diag } from '@opentelemetry/api';
import { captureDiag, scrape, samples, value } from '@tuist-telemetry/testing';
import type { Telemetry } from '@tuist-telemetry/core';
import { TuistUndiciInstrumentation } from '@tuist-telemetry/http';
import { startServer, type TestServer, startReady } from './helpers.js';

const GET = { request_method: 'GET', request_host: '127.0.0.1' };

describe('http: TuistUndiciInstrumentation', () => {
  let t: Telemetry;
  let server: TestServer;
  let inst: TuistUndiciInstrumentation | undefined;

  before(async () => {
    server = await startServer((req, res) => res.end(`${req.method} ${req.url}`));
    t = await startReady();
  });
  after(async () => {
    inst?.disable();
    await t.shutdown();
    await server.close();
  });
  const count = async (): Promise<number> => {
    const found = samples(await scrape(t.url!), 'tuist_http_request_count', { response_status: '200', ...GET });
    return found.length === 0 ? 0 : found[0]!.value;
  };

  it('enable() measures fetch and undici calls; disable() restores the dispatcher; undici channels stay unsubscribed', async () => {
    const previous = getGlobalDispatcher();
    const created = diagnosticsChannel.channel('undici:request:create');
    expect(created.hasSubscribers, 'another suite left an instrumented agent open').to.equal(false);
    const metricsOrigin = new URL(t.url!).origin;
    inst = new TuistUndiciInstrumentation({ ignore: (origin) => origin === metricsOrigin });
    expect(TuistUndiciInstrumentation.shortName).to.equal('undici');
    expect(inst.isEnabled()).to.equal(true);
    expect(getGlobalDispatcher()).to.not.equal(previous);
    // Requests are measured through their handler: undici's channels (and every other undici request) pay nothing.
    expect(created.hasSubscribers).to.equal(false);

    expect(await (await fetch(`${server.origin}/a`)).text()).to.equal('GET /a');
    expect(await (await request(`${server.origin}/b`)).body.text()).to.equal('GET /b');
    expect(await count()).to.equal(2);
    const exp = await scrape(t.url!);
    expect(value(exp, 'tuist_http_send_count', GET)).to.equal(2);
    expect(value(exp, 'tuist_http_receive_count', { status: '200', ...GET })).to.equal(2);

    inst.disable();
    inst.disable();
    expect(inst.isEnabled()).to.equal(false);
    expect(getGlobalDispatcher()).to.equal(previous);
    expect(created.hasSubscribers).to.equal(false);
    await (await fetch(`${server.origin}/c`)).text();
    expect(await count()).to.equal(2);

    inst.enable();
    inst.enable();
    await (await fetch(`${server.origin}/d`)).text();
    expect(await count()).to.equal(3);
    inst.disable();
    expect(getGlobalDispatcher()).to.equal(previous);
  });

  it('a bad option does not throw into the host: it is reported and nothing is installed', () => {
    const previous = getGlobalDispatcher();
    const logged = captureDiag(diag);
    let bad: TuistUndiciInstrumentation;
    try {
      bad = new TuistUndiciInstrumentation({ connections: -1 });
    } finally {
      logged.restore();
    }
    expect(logged.lines).to.have.length(1);
    expect(logged.lines[0]).to.match(
      /^error: @tuist-telemetry\/http\/undici not enabled: .*"connections" must be a whole number/,
    );
    expect(bad.isEnabled()).to.equal(false);
    expect(getGlobalDispatcher()).to.equal(previous);
    expect(() => bad.disable()).to.not.throw();
  });
});
