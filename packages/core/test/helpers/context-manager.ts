import { ROOT_CONTEXT, trace, TraceFlags, type Context, type ContextManager } from '@opentelemetry/api';

/** A context manager whose active context is what `active()` returns (what a server inside a request has). */
export function contextManagerOf(active: () => Context): ContextManager {
  return {
    active,
    with: (_c: Context, fn: (...a: unknown[]) => unknown, self?: unknown, ...args: unknown[]) => fn.call(self, ...args),
    bind: (_c: Context, target: unknown) => target,
    enable() {
      return this;
    },
    disable() {
      return this;
    },
  } as unknown as ContextManager;
}

/** A context holding one sampled span (traceId/spanId given, or fixed ones). */
export function sampledContext(traceId = '0af7651916cd43dd8448eb211c80319c', spanId = 'b7ad6b7169203331'): Context {
  return trace.setSpan(ROOT_CONTEXT, trace.wrapSpanContext({ traceId, spanId, traceFlags: TraceFlags.SAMPLED }));
}
