import { spawn } from 'node:child_process';
import http from 'node:http';
import { fileURLToPath } from 'node:url';
import { listeningPorts, newListeningPort } from '@tuist-telemetry/testing';

const dir = fileURLToPath(new URL('..', import.meta.url));

/** What signals/app.mjs does on SIGTERM (see the app). */
export type OnSigterm = 'default' | 'drain' | 'exit' | 'stay' | 'signal-exit';
/**
 * When SIGTERM is sent: once the app is ready (`idle`), or with a gzip scrape of /metrics in progress: right after
 * the request is written (`render`: the body is being rendered or compressed), or once its first body bytes arrived
 * and the scraper stopped reading (`body`: the rest of the body waits in the socket).
 */
export type When = 'idle' | 'render' | 'body';

export interface Ended {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs signals/app.mjs under `command args` (a preload, or none), sends one SIGTERM to its pid `when` asked, and
 * resolves with how it ended. For `stay` (the app keeps running), it also says whether the /metrics port closed
 * while the app's own port kept listening, then ends the app with SIGKILL.
 */
export async function sigterm(
  command: string,
  args: readonly string[],
  opts: { onSigterm: OnSigterm; when: When; series?: number; telemetry: boolean; server?: 'node:http' | 'native' },
): Promise<Ended & { metricsClosed?: boolean; appListening?: boolean }> {
  const child = spawn(command, [...args, 'signals/app.mjs'], {
    cwd: dir,
    env: {
      ...process.env,
      NODE_OPTIONS: '',
      OTEL_EXPORTER_PROMETHEUS_PORT: '0',
      OTEL_EXPORTER_PROMETHEUS_HOST: '127.0.0.1',
      DENO_NO_UPDATE_CHECK: '1',
      ON_SIGTERM: opts.onSigterm,
      SERIES: String(opts.series ?? 0),
      SERVER: opts.server === 'native' ? 'native' : '',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const ended = new Promise<Ended>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal, stdout, stderr })),
  );
  // A hang fails the test instead of leaving a process behind.
  const guard = setTimeout(() => child.kill('SIGKILL'), 20_000);
  try {
    const ready = await new Promise<string>((resolve, reject) => {
      child.stdout.on('data', () => {
        const m = /READY (.*)\n/.exec(stdout);
        if (m) resolve(m[1]!);
      });
      void ended.then((e) => reject(new Error(`the app ended before READY:\n${e.stdout}${e.stderr}`)));
    });
    const appPort = Number(new URL((JSON.parse(ready) as { url: string }).url).port);
    const metricsPort = opts.telemetry ? await newListeningPort(child.pid!, [appPort]) : undefined;
    if (opts.when === 'idle') child.kill('SIGTERM');
    else {
      if (metricsPort === undefined) throw new Error('a scrape needs telemetry');
      const req = http.get({
        host: '127.0.0.1',
        port: metricsPort,
        path: '/metrics',
        headers: { 'Accept-Encoding': 'gzip' },
      });
      req.on('error', () => {}); // the app may end before or while it answers
      if (opts.when === 'render') req.on('finish', () => child.kill('SIGTERM'));
      else
        req.on('response', (res) => {
          res.on('error', () => {});
          res.once('data', () => {
            res.pause();
            child.kill('SIGTERM');
          });
        });
    }
    if (opts.onSigterm !== 'stay') return await ended;
    // The app keeps serving: /metrics must close, the app's own port must not.
    await new Promise<void>((resolve) => {
      const check = (): void => {
        const up = child.exitCode === null && child.signalCode === null;
        if (!up || (/SIGTERM: staying up/.test(stdout) && !listeningPorts(child.pid!).includes(metricsPort!)))
          resolve();
        else setTimeout(check, 100);
      };
      check();
    });
    const up = child.exitCode === null && child.signalCode === null;
    const metricsClosed = up && !listeningPorts(child.pid!).includes(metricsPort!);
    const appListening = await new Promise<boolean>((resolve) =>
      http
        .get(`http://127.0.0.1:${appPort}/`, (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode === 200));
        })
        .on('error', () => resolve(false)),
    );
    child.kill('SIGKILL');
    return { ...(await ended), metricsClosed, appListening };
  } finally {
    clearTimeout(guard);
  }
}
