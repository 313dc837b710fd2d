import { expect } from 'chai';
import { diag } from '@opentelemetry/api';
import { captureDiag } from '@tuist-telemetry/testing';
import { instrumentS3Client, TuistS3Instrumentation } from '@tuist-telemetry/storage';

/**
 * The edges of TuistS3Instrumentation's patch of `S3Client.prototype.send`, through its module definition (what
 * require-in-the-middle calls on load) and a module of the same shape as `@aws-sdk/client-s3` whose clients record
 * the middleware they are given: an own `send` kept and restored, someone else's wrapper on top, odd `this`, the
 * count of enabled instances, and the failures reported instead of thrown. The real SDK and s3rver are in
 * instrumentation.test.ts and instrumentation-instances.test.ts.
 */

interface Added {
  step: string;
  name: string;
}
type Send = (this: unknown, ...args: unknown[]) => unknown;

/** A client-s3 look-alike: `S3Client` with a middleware stack that records what is added. */
function fakeModule(ownSend: boolean) {
  const calls: { self: unknown; args: unknown[] }[] = [];
  const original: Send = function send(this: unknown, ...args: unknown[]): unknown {
    calls.push({ self: this, args });
    return 'sent';
  };
  class Base {
    declare send: Send;
    readonly added: Added[] = [];
    readonly middlewareStack = { add: (_fn: unknown, options: Added) => void this.added.push(options) };
  }
  if (!ownSend) (Base.prototype as unknown as { send: Send }).send = original;
  class S3Client extends Base {}
  if (ownSend) (S3Client.prototype as unknown as { send: Send }).send = original;
  const proto = S3Client.prototype as unknown as { send: Send };
  return { exports: { S3Client }, S3Client, proto, original, calls };
}

const definition = (i: TuistS3Instrumentation) => i.getModuleDefinitions()[0]!;

describe('storage: TuistS3Instrumentation patch edges (module definition, own send, wrappers on top)', () => {
  const instances: TuistS3Instrumentation[] = [];
  const instrumentation = (config?: { enabled: boolean }): TuistS3Instrumentation => {
    const i = new TuistS3Instrumentation(config);
    instances.push(i);
    return i;
  };
  afterEach(() => {
    for (const i of instances.splice(0)) i.disable();
  });

  it('an own S3Client.prototype.send is wrapped (this, arguments and result passed through) and put back on disable', () => {
    const a = instrumentation();
    const m = fakeModule(true);
    expect(definition(a).patch!(m.exports, '3.700.0')).to.equal(m.exports);
    const wrapper = m.proto.send;
    expect(wrapper).to.not.equal(m.original);
    const client = new m.S3Client();
    expect(client.send('command', 'options')).to.equal('sent');
    expect(client.send('again')).to.equal('sent');
    expect(m.calls).to.deep.equal([
      { self: client, args: ['command', 'options'] },
      { self: client, args: ['again'] },
    ]);
    // The middleware once per client, at the step that times retries too.
    expect(client.added).to.deep.equal([
      { step: 'initialize', name: 'tuistTelemetryCommandMetrics', priority: 'high', override: true },
    ]);
    // Loaded again (another copy of the hook): no second wrapper.
    definition(a).patch!(m.exports, '3.700.0');
    expect(m.proto.send).to.equal(wrapper);
    a.disable();
    expect(m.proto.send).to.equal(m.original);
    expect(Object.hasOwn(m.proto, 'send')).to.equal(true);
    // Enabling again patches the prototypes seen before (require hooks are not called twice for one module).
    a.enable();
    expect(m.proto.send).to.equal(wrapper);
  });

  it('an inherited send gets an own wrapper, removed again on disable', () => {
    const a = instrumentation();
    const m = fakeModule(false);
    definition(a).patch!(m.exports, undefined);
    expect(Object.hasOwn(m.proto, 'send')).to.equal(true);
    const client = new m.S3Client();
    expect(client.send('x')).to.equal('sent');
    expect(m.calls).to.deep.equal([{ self: client, args: ['x'] }]);
    expect(client.added).to.have.length(1);
    a.disable();
    expect(Object.hasOwn(m.proto, 'send')).to.equal(false);
    expect(m.proto.send).to.equal(m.original);
  });

  it('the ESM namespace shape (default.S3Client) is patched too', () => {
    const a = instrumentation();
    const m = fakeModule(true);
    const namespace = { default: { S3Client: m.S3Client } };
    expect(definition(a).patch!(namespace, '3.1.0')).to.equal(namespace);
    expect(m.proto.send).to.not.equal(m.original);
    a.disable();
    expect(m.proto.send).to.equal(m.original);
  });

  it("someone else's wrapper on top stays on disable and enable; ours under it passes through while disabled", () => {
    const a = instrumentation();
    const m = fakeModule(true);
    definition(a).patch!(m.exports, '3.1.0');
    const ours = m.proto.send;
    const theirs: Send = function theirs(this: unknown, ...args: unknown[]): unknown {
      return ours.apply(this, args);
    };
    m.proto.send = theirs;
    a.disable();
    expect(m.proto.send).to.equal(theirs);
    const off = new m.S3Client();
    expect(off.send('off')).to.equal('sent');
    expect(off.added).to.deep.equal([]);
    a.enable();
    expect(m.proto.send).to.equal(theirs);
    const on = new m.S3Client();
    expect(on.send('on')).to.equal('sent');
    expect(on.added).to.have.length(1);
    // They unwrap back to the original own send: enabling puts ours on again.
    m.proto.send = m.original;
    instrumentation().enable();
    expect(m.proto.send).to.equal(ours);
  });

  it('a client instrumented by hand, or a send with an odd `this`, gets no middleware and no exception', () => {
    const a = instrumentation();
    const m = fakeModule(true);
    definition(a).patch!(m.exports, '3.1.0');
    const byHand = new m.S3Client();
    instrumentS3Client(byHand as never);
    expect(byHand.added).to.have.length(1);
    expect(byHand.send('x')).to.equal('sent');
    expect(byHand.added).to.have.length(1);
    expect(m.proto.send.call(undefined, 'u')).to.equal('sent');
    expect(m.proto.send.call(null, 'n')).to.equal('sent');
    expect(m.proto.send.call(42, 'n')).to.equal('sent');
    expect(m.proto.send.call({}, 'no stack')).to.equal('sent');
    expect(m.calls.map((c) => c.args[0])).to.deep.equal(['x', 'u', 'n', 'n', 'no stack']);
  });

  it('enabled instances are counted once each: a second enable() or a disable() of one never enabled changes nothing', () => {
    const a = instrumentation();
    const m = fakeModule(true);
    definition(a).patch!(m.exports, '3.1.0');
    instrumentation({ enabled: false }).disable();
    const one = new m.S3Client();
    one.send('x');
    expect(one.added, 'a disable() of an instance never enabled does not stop the enabled one').to.have.length(1);
    a.enable();
    a.disable();
    // The module hook patches again (it does not ask whether the instance is enabled): nothing is, so no middleware.
    definition(a).patch!(m.exports, '3.1.0');
    expect(m.proto.send).to.not.equal(m.original);
    const later = new m.S3Client();
    later.send('y');
    expect(later.added, 'enable() twice then disable() once: nothing is enabled').to.deep.equal([]);
  });

  it('unpatch from the module hook keeps the patch while another instance is enabled', () => {
    const a = instrumentation();
    const b = instrumentation();
    const m = fakeModule(true);
    definition(a).patch!(m.exports, '3.1.0');
    const wrapper = m.proto.send;
    definition(b).unpatch!(m.exports, '3.1.0');
    expect(m.proto.send).to.equal(wrapper);
    a.disable();
    b.disable();
    expect(m.proto.send).to.equal(m.original);
    // With none enabled, the hook's unpatch removes a wrapper a later patch put on.
    definition(a).patch!(m.exports, '3.1.0');
    expect(m.proto.send).to.equal(wrapper);
    definition(a).unpatch!(m.exports, '3.1.0');
    expect(m.proto.send).to.equal(m.original);
  });

  it('versions: another major is skipped with one warning per instance; an unreadable or no version is tried', () => {
    const logged = captureDiag(diag);
    try {
      const m = fakeModule(true);
      const skipped = instrumentation({ enabled: false });
      expect(definition(skipped).patch!(m.exports, '2.9.0')).to.equal(m.exports);
      expect(definition(skipped).patch!(m.exports, '4.0.0')).to.equal(m.exports);
      // The one warning of this instance is spent: the missing send is not reported again.
      expect(definition(skipped).patch!({ S3Client: {} }, '3.0.0')).to.deep.equal({ S3Client: {} });
      expect(m.proto.send).to.equal(m.original);
      expect(logged.lines).to.deep.equal([
        'warn: @tuist-telemetry/storage @aws-sdk/client-s3 2.9.0 is not supported (3.x is); S3 clients are not instrumented',
      ]);
      const other = instrumentation({ enabled: false });
      expect(definition(other).patch!({ S3Client: { prototype: { send() {} } } }, '3.0.0')).to.be.an('object');
      expect(logged.matching(/has no S3Client\.prototype\.send/)).to.have.length(1);
      definition(instrumentation({ enabled: false })).patch!({ S3Client: class {} }, '3.0.0');
      definition(instrumentation({ enabled: false })).patch!({ S3Client: null }, '3.0.0');
      definition(instrumentation({ enabled: false })).patch!(undefined, '3.0.0');
      const noPrototype = Object.assign(function S3Client() {}, { prototype: null });
      definition(instrumentation({ enabled: false })).patch!({ S3Client: noPrototype }, '3.0.0');
      expect(logged.matching(/has no S3Client\.prototype\.send/)).to.have.length(5);
      definition(instrumentation({ enabled: false })).patch!(m.exports, 'next');
      expect(m.proto.send, 'an unreadable version is tried').to.not.equal(m.original);
      const n = fakeModule(true);
      definition(instrumentation({ enabled: false })).patch!(n.exports, undefined);
      expect(n.proto.send, 'no version is tried').to.not.equal(n.original);
      expect(logged.lines).to.have.length(6);
    } finally {
      logged.restore();
    }
  });

  it('a module that throws while patched or unpatched is reported through diag, never thrown', () => {
    const logged = captureDiag(diag);
    try {
      const hostile = {
        get S3Client(): never {
          throw new Error('hostile exports');
        },
      };
      const i = instrumentation({ enabled: false });
      expect(definition(i).patch!(hostile, '3.0.0')).to.equal(hostile);
      expect(() => definition(i).unpatch!(hostile, '3.0.0')).not.to.throw();
      expect(logged.lines).to.deep.equal([
        'error: @tuist-telemetry/storage patching @aws-sdk/client-s3 failed; S3 clients are not instrumented Error: hostile exports',
        'error: @tuist-telemetry/storage unpatching failed Error: hostile exports',
      ]);
    } finally {
      logged.restore();
    }
  });

  it('unpatching a module it does not recognise does nothing; a failing enable() says what the host loses', () => {
    const logged = captureDiag(diag);
    try {
      const i = instrumentation({ enabled: false });
      expect(() => definition(i).unpatch!({ S3Client: class {} }, '3.0.0')).not.to.throw();
      expect(logged.lines).to.deep.equal([]);
      class Failing extends TuistS3Instrumentation {
        protected override onEnable(): void {
          throw new Error('cannot patch');
        }
      }
      const f = new Failing();
      instances.push(f);
      expect(f.isEnabled()).to.equal(false);
      expect(logged.lines).to.deep.equal([
        'error: @tuist-telemetry/storage enable failed; S3 clients are not instrumented Error: cannot patch',
      ]);
    } finally {
      logged.restore();
    }
  });
});
