import type { ExecutionContext } from 'ava';

/**
 * What the harness needs from its caller: a place to register clean-up that
 * runs even on failure. An ava test context is one; the demo brings its own.
 */
export type Teardown = Pick<ExecutionContext, 'teardown'>;

/** A Teardown for scripts: clean-ups run in reverse order, once, on `run()` or on exit signals. */
export function scriptTeardown(): Teardown & { run(): Promise<void> } {
  const fns: Array<() => unknown> = [];
  let ran = false;
  const run = async () => {
    if (ran) return;
    ran = true;
    for (const fn of fns.reverse()) {
      try {
        await fn();
      } catch {
        // Keep cleaning up the rest.
      }
    }
  };
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => void run().then(() => process.exit(130)));
  }
  return { teardown: (fn) => void fns.push(fn), run };
}
