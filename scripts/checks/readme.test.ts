import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { currentReference, readmePath, renderReference } from '../metric-reference.js';
import { catalog } from '../../packages/core/src/internal.js';

describe('README metric reference', () => {
  it('is the one derived from the catalog (regenerate with scripts/metric-reference.ts --write)', () => {
    const readme = readFileSync(readmePath(), 'utf8');
    expect(currentReference(readme)).to.equal(renderReference());
  });

  it('names every catalog metric', () => {
    const ref = renderReference();
    for (const d of catalog) expect(ref, d.name).to.contain('`' + d.name + '`');
  });
});
