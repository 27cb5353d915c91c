/**
 * `install` / `uninstall`: thin commands over server-pam/install.ts. Both
 * validate before they replace anything, keep backups, and restore on any
 * failure; --dry-run prints the diff and changes nothing.
 */
import type { Argv } from 'yargs';
import { DEFAULT_SOCKET } from '../config.js';
import { spawnSync } from 'node:child_process';
import { DAEMON_ACCOUNT } from '../file-safety.js';
import { applyChanges, defaultModulePath, planInstall, planUninstall, unifiedDiff, type Plan } from '../install.js';

const packagedAccountExists = () => spawnSync('getent', ['passwd', DAEMON_ACCOUNT]).status === 0;

function report(plan: Plan, dryRun: boolean, what: string): void {
  for (const note of plan.notes) console.log(`note: ${note}`);
  if (plan.changes.length === 0) {
    console.log(`${what}: nothing to change (already ${what === 'install' ? 'installed' : 'uninstalled'})`);
    return;
  }
  for (const change of plan.changes) {
    if (dryRun) process.stdout.write(unifiedDiff(change));
    else console.log(`${change.after === null ? 'removed' : change.before === null ? 'created' : 'updated'} ${change.path}`);
  }
}

const common = (y: Argv) =>
  y
    .option('dry-run', { type: 'boolean', default: false, describe: 'print the diff, change nothing' })
    .option('root', { type: 'string', default: '/', describe: 'work on a copy of the system under this directory (tests)', hidden: true });

export const installCommand = {
  command: 'install',
  describe: 'add oauth-ssh to sshd (a drop-in) and /etc/pam.d/sshd (marked lines); keys and passwords keep working',
  builder: (y: Argv) =>
    common(y)
      .option('socket', { type: 'string', default: DEFAULT_SOCKET, describe: 'the daemon\'s socket, for the PAM lines' })
      .option('module', { type: 'string', describe: 'the PAM module, as PAM should load it (default: the multiarch security directory)' })
      .option('daemon-uid', { type: 'number', describe: 'the daemon runs as this uid (module argument daemon_uid=)' })
      .option('daemon-user', { type: 'string', describe: 'the daemon runs as this account (module argument daemon_user=; the package\'s is oauth-ssh-server)' })
      .option('only-oauth', { type: 'boolean', default: false, describe: 'a failed token ends the login instead of falling through to passwords' }),
  handler: (argv: { dryRun: boolean; root: string; socket: string; module?: string; daemonUid?: number; daemonUser?: string; onlyOauth: boolean }) => {
    // The package's daemon runs as its own account: name it unless told otherwise.
    const daemonUser = argv.daemonUser ?? (argv.daemonUid === undefined && packagedAccountExists() ? DAEMON_ACCOUNT : undefined);
    const moduleArgs = [...(argv.daemonUid === undefined ? [] : [`daemon_uid=${argv.daemonUid}`]), ...(daemonUser ? [`daemon_user=${daemonUser}`] : [])];
    const plan = planInstall(argv.root, { socket: argv.socket, module: argv.module ?? defaultModulePath(), moduleArgs, onlyOauth: argv.onlyOauth });
    report(plan, argv.dryRun, 'install');
    if (argv.dryRun || plan.changes.length === 0) return;
    applyChanges(argv.root, plan);
    console.log('Now reload sshd (systemctl reload ssh) and try a login in a second terminal before you close this one.');
  },
};

export const uninstallCommand = {
  command: 'uninstall',
  describe: 'take out exactly what install added (the files come back byte for byte)',
  builder: common,
  handler: (argv: { dryRun: boolean; root: string }) => {
    const plan = planUninstall(argv.root);
    report(plan, argv.dryRun, 'uninstall');
    if (argv.dryRun || plan.changes.length === 0) return;
    applyChanges(argv.root, plan, { selfCheck: () => ({ ok: true, detail: '' }) });
    console.log('Now reload sshd (systemctl reload ssh).');
  },
};
