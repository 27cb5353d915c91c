import type { ExecutionContext } from 'ava';

/**
 * What the harness needs from its caller: a place to register clean-up that
 * runs even on failure. An ava test context is one; the demo brings its own.
 */
export type Teardown = Pick<ExecutionContext, 'teardown'>;

/**
 * A Teardown for scripts: clean-ups run in reverse order, once, on `run()` or
 * on a signal (then the process exits 130, as shells expect after Ctrl-C).
 * Every caller of run() waits for the same clean-up to finish.
 */
export function scriptTeardown(): Teardown & { run(): Promise<void>; interrupted(): boolean } {
  const fns: Array<() => unknown> = [];
  let running: Promise<void> | undefined;
  let interrupted = false;
  const run = () =>
    (running ??= (async () => {
      for (const fn of fns.reverse()) {
        try {
          await fn();
        } catch {
          // Keep cleaning up the rest.
        }
      }
    })());
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      interrupted = true;
      void run().then(() => process.exit(130));
    });
  }
  return { teardown: (fn) => void fns.push(fn), run, interrupted: () => interrupted };
}
