// Busy child processes that keep the CPU loaded for the duration of a test, so that a result
// that depends on timing shows up in CI rather than on a user's busy server.
import { spawn } from 'node:child_process';

export function startCpuLoad(processes = 2): { stop(): void } {
  const children = Array.from({ length: processes }, () =>
    spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' }),
  );
  return {
    stop: () => {
      for (const child of children) child.kill('SIGKILL');
    },
  };
}
