import { expect } from 'chai';
import { methodLabel, poolSizeLabel, statusLabel } from '../src/common/labels.js';
import { OriginCache, parseOrigin } from '../src/client/origin.js';

describe('http: label helpers', () => {
  it('keeps the standard methods and maps every other one to _OTHER', () => {
    for (const m of ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH'])
      expect(methodLabel(m)).to.equal(m);
    for (const m of ['PURGE', 'get', 'PROPFIND', '', undefined, 42]) expect(methodLabel(m)).to.equal('_OTHER');
  });

  it('status: the number, or error when no response arrived', () => {
    expect(statusLabel(204)).to.equal('204');
    expect(statusLabel(undefined)).to.equal('error');
  });

  it('pool size: the connection limit, unlimited without one', () => {
    expect(poolSizeLabel(10)).to.equal('10');
    for (const c of [undefined, null, 0]) expect(poolSizeLabel(c)).to.equal('unlimited');
  });

  it('origins: the normalised origin and the bare host name', () => {
    expect(parseOrigin('https://API.example.com:443/')).to.deep.equal({
      origin: 'https://api.example.com',
      host: 'api.example.com',
    });
    expect(parseOrigin(new URL('http://[::1]:8080'))).to.deep.equal({ origin: 'http://[::1]:8080', host: '::1' });
    expect(parseOrigin('not a url')).to.equal(undefined);
    expect(parseOrigin(undefined)).to.equal(undefined);
  });

  it('origin cache: alternating origins (the last-origin shortcut) each get their own parse, invalid ones stay undefined', () => {
    const cache = new OriginCache();
    const a = ['http://', '127.0.0.1:8080'].join('');
    for (let round = 0; round < 2; round++) {
      expect(cache.get(a)).to.deep.equal({ origin: 'http://127.0.0.1:8080', host: '127.0.0.1' });
      expect(cache.get(a)).to.deep.equal({ origin: 'http://127.0.0.1:8080', host: '127.0.0.1' });
      expect(cache.get('https://b.example')).to.deep.equal({ origin: 'https://b.example', host: 'b.example' });
      expect(cache.get('not a url')).to.equal(undefined);
      expect(cache.get('not a url')).to.equal(undefined);
      expect(cache.get(new URL('http://c.example:81'))).to.deep.equal({
        origin: 'http://c.example:81',
        host: 'c.example',
      });
    }
  });
});
