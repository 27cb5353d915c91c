/**
 * Loaded with `node --import` into the client under test: records the file,
 * argv and environment of every process the client starts (spawn, execFile,
 * execFileSync, fork...) to the 0600 file named by OAUTH_SSH_TEST_SPAWN_LOG,
 * one JSON line each. Unlike sampling /proc, it cannot miss a short-lived
 * process: the spawning code reports it. Test-only; never shipped.
 */
import { appendFileSync } from 'node:fs';
import { createRequire, syncBuiltinESMExports } from 'node:module';

const log = process.env.OAUTH_SSH_TEST_SPAWN_LOG;
if (log) {
  const childProcess = createRequire(import.meta.url)('node:child_process');
  const record = (name, file, args, options) => {
    const argv = Array.isArray(args) ? args : [];
    const opts = Array.isArray(args) ? options : args;
    appendFileSync(log, `${JSON.stringify({ via: name, file: String(file), argv: argv.map(String), env: opts?.env ?? process.env })}\n`, { mode: 0o600 });
  };
  for (const name of ['spawn', 'spawnSync', 'execFile', 'execFileSync', 'exec', 'execSync', 'fork']) {
    const original = childProcess[name];
    childProcess[name] = function recorded(file, args, options, ...rest) {
      record(name, file, args, options);
      return original.call(this, file, args, options, ...rest);
    };
  }
  syncBuiltinESMExports();
}
