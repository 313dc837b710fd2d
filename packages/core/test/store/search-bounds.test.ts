import { expect } from 'chai';
import { B2 } from '@tuist-telemetry/core/internal';
import { searchBounds } from '../../src/store/search-bounds.js';
import { storeWithWarnings } from '../helpers/index.js';

// The bounds a histogram searches (store/search-bounds.ts): one array per bucket list, shared by its families.
describe('core store: histogram search bounds', () => {
  it('pads the bounds with +Infinity to a power of two, at least one more than the bounds', () => {
    expect([...searchBounds([1, 2, 3])]).to.deep.equal([1, 2, 3, Infinity]);
    expect([...searchBounds([1, 2, 3, 4])]).to.deep.equal([1, 2, 3, 4, Infinity, Infinity, Infinity, Infinity]);
    expect([...searchBounds([])]).to.deep.equal([Infinity]);
  });

  it('families with the same bucket list search one array; another list gets its own, and each records right', () => {
    const buckets = [1, 10];
    const { s } = storeWithWarnings(
      [
        { name: 'a_ns', type: 'histogram', family: 'test', description: 'a', labels: [], buckets: B2 },
        { name: 'b_ns', type: 'histogram', family: 'test', description: 'b', labels: [], buckets: [...B2] },
        { name: 'c_bytes', type: 'histogram', family: 'test', description: 'c', labels: [], buckets },
      ],
      1000,
    );
    const bounds = (name: string) => (s.histogram(name) as unknown as { bounds: Float64Array }).bounds;
    expect(bounds('a_ns')).to.equal(bounds('b_ns'));
    expect(bounds('a_ns')).to.equal(searchBounds(B2));
    expect(bounds('c_bytes')).to.not.equal(bounds('a_ns'));
    for (const v of [0, 1, 5, 10, 11]) s.histogram('c_bytes').record(v);
    s.histogram('a_ns').record(B2[0]!);
    expect([...[...s.histogram('c_bytes').series][0]!.counts]).to.deep.equal([2, 2, 1]);
    expect([...s.histogram('a_ns').series][0]!.counts[0]).to.equal(1);
  });
});
