import diagnosticsChannel, { type Channel } from 'node:diagnostics_channel';

/*
 * Subscriptions shared by reference count. Hand-written: `@opentelemetry/instrumentation` has no diagnostics-channel
 * support (contrib's undici instrumentation subscribes in its own `enable()`), and here several holders (every
 * instrumented undici agent, every enabled instance) share one set of listeners per copy of a package, which must
 * stay subscribed until the last holder lets go.
 */

/** Something started while at least one holder holds it, and stopped when the last one releases it. */
export class SharedSubscription {
  private holders = 0;

  constructor(
    private readonly start: () => void,
    private readonly stop: () => void,
  ) {}

  /** Holds the subscription (starting it for the first holder); returns the release function, which acts once. */
  acquire(): () => void {
    if (this.holders++ === 0) this.start();
    let held = true;
    return () => {
      if (!held) return;
      held = false;
      if (--this.holders === 0) this.stop();
    };
  }
}

export type ChannelListener = (message: unknown, name: string | symbol) => void;

/**
 * Listeners of diagnostics channels as one shared subscription. A channel is given by name, or as the channel
 * object where it must be held strongly (Bun keeps channels weakly: one subscribed by name alone is collected
 * with its subscribers). `beforeStart` runs before each (re)start.
 */
export function channelSubscription(
  listeners: readonly (readonly [string | Channel, ChannelListener])[],
  beforeStart?: () => void,
): SharedSubscription {
  return new SharedSubscription(
    () => {
      beforeStart?.();
      for (const [channel, fn] of listeners)
        if (typeof channel === 'string') diagnosticsChannel.subscribe(channel, fn);
        else channel.subscribe(fn);
    },
    () => {
      for (const [channel, fn] of listeners)
        if (typeof channel === 'string') diagnosticsChannel.unsubscribe(channel, fn);
        else channel.unsubscribe(fn);
    },
  );
}
