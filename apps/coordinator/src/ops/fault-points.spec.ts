import { spawnSync } from 'node:child_process';
import { parseFaultSpec } from './fault-points';

describe('fault points (FEDSEG_FAULT_KILL_AT)', () => {
  it('reads <point> and <point>@<n>', () => {
    expect(parseFaultSpec(undefined)).toBeNull();
    expect(parseFaultSpec('dispatch')).toEqual({ point: 'dispatch', nth: 1 });
    expect(parseFaultSpec('mid-aggregation@3')).toEqual({ point: 'mid-aggregation', nth: 3 });
  });

  it('refuses a misspelt point or count with the list of points', () => {
    expect(() => parseFaultSpec('mid-agregation')).toThrow(/not a fault point \(dispatch, mid-upload/);
    expect(() => parseFaultSpec('dispatch@0')).toThrow(/not a fault point/);
    expect(() => parseFaultSpec('dispatch@two')).toThrow(/not a fault point/);
  });

  it('kills the process with SIGKILL at the n-th time the point is reached, not before', () => {
    const script = `
      const { faultPoint } = require(${JSON.stringify(require.resolve('./fault-points'))});
      faultPoint('dispatch'); process.stdout.write('1 ');
      faultPoint('mid-upload'); process.stdout.write('2 ');
      faultPoint('dispatch'); process.stdout.write('3 ');`;
    const run = spawnSync(process.execPath, ['-r', '@swc-node/register', '-e', script], {
      env: { ...process.env, FEDSEG_FAULT_KILL_AT: 'dispatch@2' },
      encoding: 'utf8',
    });
    expect(run.signal).toBe('SIGKILL');
    expect(run.stdout).toBe('1 2 ');
    expect(run.stderr).toContain('fault point dispatch@2: SIGKILL');
  });
});
