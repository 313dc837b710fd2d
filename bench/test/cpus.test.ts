import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { cpuOf, parseCpuList, pinned, placement } from '../src/cpus.js';

// Cases 4 and 5 place their clients and servers on different CPUs (bench/src/cpus.ts); here a pinned child reads
// where the kernel lets it run.
describe('bench: CPU placement of the interleaved cases', () => {
  const pinnable = cpuOf('client') !== undefined;

  it('a pinned process runs only on its role CPU: clients on one, servers on another', function () {
    if (!pinnable) this.skip();
    const allowed = (role: 'client' | 'server') => {
      const script =
        "process.stdout.write(/Cpus_allowed_list:\\s*(\\S+)/.exec(require('fs').readFileSync('/proc/self/status', 'utf8'))[1])";
      const [command, args] = pinned(role, process.execPath, ['-e', script]);
      return execFileSync(command, args).toString();
    };
    expect(allowed('client')).to.equal(String(cpuOf('client')));
    expect(allowed('server')).to.equal(String(cpuOf('server')));
    expect(cpuOf('client')).to.not.equal(cpuOf('server'));
    expect(placement()).to.contain(`CPU ${cpuOf('client')}`);
  });

  it('TUIST_BENCH_PIN=0 leaves every process where the scheduler puts it', () => {
    const before = process.env.TUIST_BENCH_PIN;
    process.env.TUIST_BENCH_PIN = '0';
    try {
      expect(cpuOf('client')).to.equal(undefined);
      expect(pinned('server', 'node', ['x.js'])).to.deep.equal(['node', ['x.js']]);
      expect(placement()).to.match(/^not pinned/);
    } finally {
      if (before === undefined) delete process.env.TUIST_BENCH_PIN;
      else process.env.TUIST_BENCH_PIN = before;
    }
  });

  it('reads the kernel CPU lists a container or cgroup gives (not always from CPU 0)', () => {
    expect(parseCpuList('0-1\n')).to.deep.equal([0, 1]);
    expect(parseCpuList('2,4-6,9')).to.deep.equal([2, 4, 5, 6, 9]);
    expect(parseCpuList('3')).to.deep.equal([3]);
    expect(parseCpuList('0-1,x')).to.deep.equal([]);
  });
});
