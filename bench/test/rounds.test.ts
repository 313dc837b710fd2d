import { expect } from 'chai';
import { rows } from '../src/cases.js';
import { balancedOrders, medianOfRounds, withRatios } from '../src/rounds.js';

// Rows 4 and 5 come from interleaved rounds (bench/src/rounds.ts): the ratio is the median of the per-round ratios,
// so a round where the machine was slow for both sides does not move it, where a ratio of medians would.
describe('bench: interleaved rounds give per-round ratios', () => {
  const params = { series: 10_000, loadSeries: 100_000, loadRps: 1_000 };

  it('rows 4, 4b and 4d take the medians of the per-round ratios', () => {
    // The machine slowed down during the second and third rounds; each round's sides are alike.
    const rounds = [
      {
        plain: { rps: 100, cpuUs: 10 },
        instrumented: { rps: 97, cpuUs: 10.3 },
        instrumentation: { rps: 96, cpuUs: 10.4 },
      },
      {
        plain: { rps: 50, cpuUs: 20 },
        instrumented: { rps: 49, cpuUs: 20.4 },
        instrumentation: { rps: 48, cpuUs: 20.8 },
      },
      {
        plain: { rps: 60, cpuUs: 18 },
        instrumented: { rps: 58, cpuUs: 18.2 },
        instrumentation: { rps: 58, cpuUs: 18.9 },
      },
    ].map((r) => withRatios({ ...r, 'stock-instr': { rps: 80, cpuUs: r.plain.cpuUs * 1.3 } }));
    const table = rows({ undici: medianOfRounds(rounds) }, params, {});
    const row = (id: string) => table.find((r) => r.id === id)!;
    // Ratio of the medians: 58 / 60 = 0.967; per-round ratios 0.97, 0.98, 0.967: median 0.97.
    expect(row('4').ratio).to.be.closeTo(0.97, 1e-9);
    expect(row('4').ours).to.equal(58);
    expect(row('4').none).to.equal(60);
    expect(row('4c').ratio).to.be.closeTo(0.96, 1e-9);
    // Per round 1.03, 1.02, 1.011: median 1.02 (the ratio of the medians is 1.011).
    expect(row('4b').ratio).to.be.closeTo(1.02, 1e-9);
    // Per round 10.4 / 13, 20.8 / 26, 18.9 / 23.4: median 0.8 (the ratio of the medians is 0.808).
    expect(row('4d').ratio).to.be.closeTo(0.8, 1e-9);
  });

  it('a case measured one process per implementation keeps the ratio of the medians', () => {
    const table = rows({ pg: { plain: { qps: 100, cpuUs: 10 }, instrumented: { qps: 96, cpuUs: 11 } } }, params, {});
    expect(table.find((r) => r.id === '5')!.ratio).to.be.closeTo(0.96, 1e-9);
  });
});

describe('bench: the order of the blocks in a round is balanced', () => {
  for (const n of [2, 3, 4, 5, 6]) {
    it(`${n} implementations: each follows every other one equally often, and each is first equally often`, () => {
      const orders = balancedOrders(n);
      const follows = new Map<string, number>();
      const first = new Map<number, number>();
      for (const row of orders) {
        expect([...row].sort((a, b) => a - b)).to.deep.equal(Array.from({ length: n }, (_, i) => i));
        first.set(row[0]!, (first.get(row[0]!) ?? 0) + 1);
        for (let i = 1; i < n; i++)
          follows.set(`${row[i - 1]}>${row[i]}`, (follows.get(`${row[i - 1]}>${row[i]}`) ?? 0) + 1);
      }
      // Every ordered pair of two different implementations, the same number of times.
      expect(follows.size).to.equal(n * (n - 1));
      expect(new Set(follows.values()).size).to.equal(1);
      expect(first.size).to.equal(n);
      expect(new Set(first.values()).size).to.equal(1);
    });
  }

  it('one implementation runs alone', () => {
    expect(balancedOrders(1)).to.deep.equal([[0]]);
  });
});
