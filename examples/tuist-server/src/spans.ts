/**
 * Manual spans of the demo, for what runs outside a request (the background job, each load iteration): with
 * traces on (`OTEL_TRACES_EXPORTER`, core starts the tracer provider) the recordings made inside keep the span as
 * their histogram bucket's exemplar. With traces off the API's no-op tracer makes them cost next to nothing.
 */
import { SpanStatusCode, trace, type Span } from '@opentelemetry/api';

/** Whether `OTEL_TRACES_EXPORTER` asks for traces, as core reads it: a name listed, and `none` nowhere (the default). */
export function tracesRequested(env: Readonly<Record<string, string | undefined>>): boolean {
  const names = (env.OTEL_TRACES_EXPORTER ?? '')
    .split(',')
    .map((n) => n.trim().toLowerCase())
    .filter(Boolean);
  return names.length > 0 && !names.includes('none');
}

const tracer = trace.getTracer('tuist-demo');

/**
 * Runs `fn` inside a new active span named `name`, ending it when `fn` settles; a failure is recorded on the span
 * and rethrown unchanged.
 */
export async function inSpan<T>(name: string, fn: (span: Span) => Promise<T>): Promise<T> {
  return tracer.startActiveSpan(name, async (span) => {
    try {
      return await fn(span);
    } catch (err) {
      span.recordException(err as Error);
      span.setStatus({ code: SpanStatusCode.ERROR });
      throw err;
    } finally {
      span.end();
    }
  });
}
