/**
 * Traces in the demo (`OTEL_TRACES_EXPORTER=otlp` or `console`). Core's `startTelemetry()` starts the tracer
 * provider from the environment; OpenTelemetry's stock instrumentations of `node:http` (server and client
 * requests), undici/fetch and `pg`, enabled here before the demo imports those libraries (import-in-the-middle's
 * loader hook patches ES module imports), make its requests and queries run inside spans, so that every catalog
 * histogram recorded there (HTTP server, storage operations, repo queries, HTTP client, runs) keeps a sampled span
 * as its bucket's exemplar. What runs outside a request gets manual spans (spans.ts). Imported by main.ts only
 * when traces are on.
 */
import { registerInstrumentations, type Instrumentation } from '@opentelemetry/instrumentation';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici';
import { createAddHookMessageChannel } from 'import-in-the-middle';
import module from 'node:module';

/**
 * Enables the stock http, undici and pg instrumentations. Must run before `pg` and `node:http` are imported by the
 * demo (main.ts imports the rest of the demo afterwards); resolves once the loader hook knows what to wrap.
 */
export async function enableTracingInstrumentations(): Promise<Instrumentation[]> {
  const { registerOptions, waitForAllMessagesAcknowledged } = createAddHookMessageChannel();
  // Node's synchronous in-thread hooks where import-in-the-middle supports them (Node >= 22.22.3, >= 24.11.1, 26:
  // `module.register()` is deprecated on 26, DEP0205), else the off-thread `module.register()` loader (Node 20).
  // (`registerHooks` is missing from @types/node 20, the line this builds against.)
  const hasRegisterHooks = typeof (module as { registerHooks?: unknown }).registerHooks === 'function';
  const sync = hasRegisterHooks ? await import('import-in-the-middle/register-hooks.mjs') : undefined;
  if (sync?.supportsSyncHooks()) sync.register(registerOptions.data);
  else module.register('import-in-the-middle/hook.mjs', import.meta.url, registerOptions);
  const instrumentations = [
    // The scrapes of /metrics are not traced: they are Prometheus' requests, not the demo's work.
    new HttpInstrumentation({
      ignoreIncomingRequestHook: (req) => req.url === '/metrics' || req.url?.startsWith('/metrics?') === true,
    }),
    new UndiciInstrumentation(),
    new PgInstrumentation(),
  ];
  registerInstrumentations({ instrumentations });
  await waitForAllMessagesAcknowledged();
  return instrumentations;
}
