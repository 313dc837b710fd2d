import { expect } from 'chai';
import { fileURLToPath } from 'node:url';
import { parseExposition, runResultChild, samples, value } from '@tuist-telemetry/testing';

const httpDir = fileURLToPath(new URL('..', import.meta.url));

function runChild<R = { body: string; clientSpans: number; errors: string[] }>(
  order: string,
  fixture = './test/fixtures/stock-undici.ts',
): Promise<R> {
  return runResultChild<R>([fixture], { cwd: httpDir, env: { ORDER: order } });
}

describe('http: next to @opentelemetry/instrumentation-undici in one process', () => {
  for (const order of ['tuist-first', 'stock-first']) {
    it(`${order}: both work, nothing counted twice, spans and http.client.request.duration on the same /metrics, no throw`, async () => {
      const r = await runChild(order);
      const exp = parseExposition(r.body);
      const GET = { request_method: 'GET', request_host: '127.0.0.1' };
      expect(value(exp, 'tuist_http_request_count', { response_status: '200', ...GET })).to.equal(4);
      expect(value(exp, 'tuist_http_send_count', GET)).to.equal(4);
      expect(value(exp, 'tuist_http_request_duration_nanosecond_count', { response_status: '200', ...GET })).to.equal(
        4,
      );
      expect(r.clientSpans).to.equal(4);
      const stock = samples(exp, 'http_client_request_duration_count');
      expect(
        stock.reduce((a, s) => a + s.value, 0),
        [...exp.keys()].join(' '),
      ).to.equal(4);
      expect(r.errors).to.deep.equal([]);
    });
  }
});

describe('http: TuistHttpServerInstrumentation next to @opentelemetry/instrumentation-http in one process', () => {
  for (const order of ['tuist-first', 'stock-first']) {
    it(`${order}: Express routes counted once as templates, server spans and the stock metrics, disable/enable and enabling after shutdown never throw`, async () => {
      const r = await runChild<{ body: string; serverSpans: number; statuses: number[]; errors: string[] }>(
        order,
        './test/fixtures/stock-http-server.ts',
      );
      expect(r.statuses).to.deep.equal([200, 200, 404, 200, 200, 200]);
      expect(r.errors).to.deep.equal([]);
      const exp = parseExposition(r.body);
      // a, b and d: c was served while ours was disabled.
      expect(
        value(exp, 'tuist_http_server_requests_total', { method: 'GET', route: '/orgs/:org/runs/:run', status: '200' }),
      ).to.equal(3);
      expect(
        value(exp, 'tuist_http_server_requests_total', { method: 'GET', route: 'unmatched', status: '404' }),
      ).to.equal(1);
      expect(samples(exp, 'tuist_http_server_requests_total')).to.have.length(2);
      expect(r.serverSpans).to.be.at.least(5);
      expect(samples(exp, 'http_server_request_duration_count').reduce((a, x) => a + x.value, 0)).to.be.at.least(5);
    });
  }
});
