import { expect } from 'chai';
import { type Ended, type OnSigterm, sigterm, type When } from './helpers.js';

/** What sigterm() resolves with (`stay` runs also say whether /metrics closed and the app kept listening). */
type Run = Awaited<ReturnType<typeof sigterm>>;

const MODES: readonly OnSigterm[] = ['default', 'drain', 'exit', 'signal-exit'];
const WHEN: readonly When[] = ['idle', 'render', 'body'];
/** Enough series for a gzip body of several hundred KB: a scraper that stops reading leaves most of it unsent. */
const SERIES = 40_000;
/** Apps signalled at once: each case is a child process that mostly waits, so a suite runs them side by side. */
const AT_ONCE = 3;

/** Runs `task`s at most `AT_ONCE` at a time, in the order they are asked for. */
function limiter(): <T>(task: () => Promise<T>) => Promise<T> {
  let running = 0;
  const queue: (() => void)[] = [];
  return (task) =>
    new Promise((resolve, reject) => {
      const start = () => {
        running++;
        task()
          .then(resolve, reject)
          .finally(() => {
            running--;
            queue.shift()?.();
          });
      };
      if (running < AT_ONCE) start();
      else queue.push(start);
    });
}

/**
 * SIGTERM to the one pid of a zero-code app (what `docker stop` sends), under `runtime`: the app ends exactly as
 * the same app without the preload (exit code or signal; nothing on stderr), whether it has no SIGTERM listener,
 * drains, or exits, and also when a scrape is being rendered or written. An app that stays up loses /metrics only.
 */
export function signalSuite(runtime: {
  name: string;
  binary: () => Promise<string>;
  plain: readonly string[];
  preload: readonly string[];
  /** `native`: also the runtime's own server (Bun.serve, Deno.serve) instead of node:http. */
  servers?: readonly ('node:http' | 'native')[];
}): void {
  for (const server of runtime.servers ?? ['node:http']) suite(runtime, server);
}

function suite(
  runtime: { name: string; binary: () => Promise<string>; plain: readonly string[]; preload: readonly string[] },
  server: 'node:http' | 'native',
): void {
  describe(`SIGTERM to a zero-code app on ${runtime.name} (${runtime.preload.join(' ')}), its server ${server}`, function () {
    this.timeout(90_000);
    const without = new Map<OnSigterm, Ended>();
    // Every case is started in `before`, AT_ONCE at a time; each test awaits its own run's result.
    const runs = new Map<string, Promise<Run>>();
    const runOf = (key: string): Promise<Run> => runs.get(key)!;
    before(async function () {
      this.timeout(120_000);
      const bin = await runtime.binary();
      const limit = limiter();
      await Promise.all(
        MODES.map(async (mode) =>
          without.set(
            mode,
            await limit(() => sigterm(bin, runtime.plain, { onSigterm: mode, when: 'idle', telemetry: false, server })),
          ),
        ),
      );
      const cases: [string, OnSigterm, When][] = [
        ...MODES.flatMap((mode) => WHEN.map((when): [string, OnSigterm, When] => [`${mode}/${when}`, mode, when])),
        ...WHEN.map((when): [string, OnSigterm, When] => [`stay/${when}`, 'stay', when]),
      ];
      for (const [key, onSigterm, when] of cases) {
        const run = limit(() =>
          sigterm(bin, runtime.preload, {
            onSigterm,
            when,
            series: when === 'idle' ? 0 : SERIES,
            telemetry: true,
            server,
          }),
        );
        run.catch(() => {}); // awaited by its test; never an unhandled rejection meanwhile
        runs.set(key, run);
      }
    });

    for (const mode of MODES) {
      for (const when of WHEN) {
        it(`ON_SIGTERM=${mode}, ${when === 'idle' ? 'no scrape' : `mid-scrape (${when})`}: ends as without telemetry`, async () => {
          const plain = without.get(mode)!;
          const got = await runOf(`${mode}/${when}`);
          const seen = `${got.stdout}${got.stderr}`;
          expect({ code: got.code, signal: got.signal }, seen).to.deep.equal({
            code: plain.code,
            signal: plain.signal,
          });
          expect(got.stderr, seen).to.equal(plain.stderr);
          // What the app printed on its way out (signal-exit's cleanup) is printed too.
          expect(got.stdout.replace(/^READY .*\n/, ''), seen).to.equal(plain.stdout.replace(/^READY .*\n/, ''));
          expect(got.stderr).to.equal('');
        });
      }
    }

    for (const when of WHEN) {
      it(`an app that stays up on SIGTERM (${when === 'idle' ? 'no scrape' : `mid-scrape, ${when}`}): /metrics closes, the app keeps serving, nothing on stderr`, async () => {
        const got = await runOf(`stay/${when}`);
        expect(got.metricsClosed, got.stderr).to.equal(true);
        expect(got.appListening).to.equal(true);
        expect(got.stderr).to.equal('');
      });
    }
  });
}
