import test from 'ava';
import { parseClientConfig, type ClientConfig } from '../../client/config.js';
import { formatFindings, runChecks, type DoctorContext } from '../../client/commands/doctor.js';

const config = parseClientConfig({ auth_url: 'https://auth.example.org', client_id: 'c', backend: 'file' }, '/home/a/.config/oauth-ssh/config.yaml');
const ASKPASS = '/home/a/.local/share/oauth-ssh/askpass';
const HELPER = '/home/a/.local/share/oauth-ssh/oauth-ssh-helper';
const block = `Host *\n  User a\n\nMatch host "*.example.org" exec "'${HELPER}' ensure %h"\n  KbdInteractiveAuthentication yes\n`;

function machine(over: Partial<DoctorContext> & { files?: Record<string, string>; executables?: string[] } = {}): DoctorContext {
  const files: Record<string, string> = { '/home/a/.ssh/config': block, [HELPER]: `#!/bin/sh\n[ "$1" = ensure ] && exit 0\nexec '/usr/bin/oauth-ssh'  "$@"\n`, ...over.files };
  const executables = new Set(over.executables ?? [HELPER, ASKPASS, '/usr/bin/oauth-ssh']);
  return {
    env: { SSH_ASKPASS: ASKPASS, SSH_ASKPASS_REQUIRE: 'force' },
    sshConfigFiles: ['/home/a/.ssh/config'],
    askpass: ASKPASS,
    loadConfig: async () => config,
    store: async () => 'file',
    sshVersion: async () => 'OpenSSH_9.2p1',
    serverClock: async () => 1_000_000,
    now: () => 1_000_000,
    readFile: (p) => files[p] ?? null,
    isExecutable: (p) => executables.has(p),
    ...over,
  };
}

const byCheck = async (ctx: DoctorContext) => Object.fromEntries((await runChecks(ctx)).map((f) => [`${f.check}:${f.status}`, f]));

test('a machine set up right: every check ok', async (t) => {
  const findings = await runChecks(machine());
  t.deepEqual(findings.map((f) => `${f.check}:${f.status}`), ['config:ok', 'ssh:ok', 'ssh_config:ok', 'askpass:ok', 'store:ok', 'clock:ok']);
  t.regex(formatFindings(findings), /ok {3}ssh_config: \/home\/a\/\.ssh\/config: "\*\.example\.org" -> .*oauth-ssh-helper -> \/usr\/bin\/oauth-ssh/);
});

test('each fault is named with its fix', async (t) => {
  const noAskpass = await byCheck(machine({ env: {} }));
  t.regex(noAskpass['askpass:fail']!.fix!, /export SSH_ASKPASS='\/home\/a\/\.local\/share\/oauth-ssh\/askpass' SSH_ASKPASS_REQUIRE=force/);
  t.truthy((await byCheck(machine({ env: { SSH_ASKPASS: ASKPASS, SSH_ASKPASS_REQUIRE: 'prefer' } })))['askpass:fail']);
  const goneHelper = await byCheck(machine({ executables: [ASKPASS] }));
  t.regex(goneHelper['ssh_config:fail']!.fix!, /oauth-ssh setup '\*\.example\.org' --ssh-config \/home\/a\/\.ssh\/config/);
  const goneTarget = await byCheck(machine({ executables: [HELPER, ASKPASS] }));
  t.regex(goneTarget['helper:fail']!.detail, /runs \/usr\/bin\/oauth-ssh, which is not there any more/);
  const bakedNode = await byCheck(machine({ files: { [HELPER]: `#!/bin/sh\nexec '/opt/node-18/bin/node' '/x/bin.js' "$@"\n` }, executables: [HELPER, ASKPASS, '/opt/node-18/bin/node'] }));
  t.regex(bakedNode['helper:warn']!.detail, /runs node by its path/);
  const shadowed = await byCheck(machine({ files: { '/home/a/.ssh/config': `KbdInteractiveAuthentication no\n${block}` } }));
  t.truthy(shadowed['ssh_config:warn']);
  const skewed = await byCheck(machine({ now: () => 1_000_000 + 300_000 }));
  t.regex(skewed['clock:fail']!.detail, /300 s ahead of https:\/\/auth\.example\.org/);
  t.truthy((await byCheck(machine({ now: () => 1_000_000 + 30_000 })))['clock:ok'], 'within a minute');
  t.truthy((await byCheck(machine({ serverClock: async () => Promise.reject(new Error('unreachable')) })))['clock:warn'], 'an unreachable server is a warning, not a failure');
  t.regex((await byCheck(machine({ store: async () => 'kernel keyring (in memory: lost at reboot)' })))['store:warn']!.fix!, /Secret Service/);
  t.truthy((await byCheck(machine({ store: async () => Promise.reject(new Error('no keychain')) })))['store:fail']);
  t.truthy((await byCheck(machine({ sshVersion: async () => Promise.reject(new Error('ssh was not found on PATH')) })))['ssh:fail']);
  const broken = await runChecks(machine({ loadConfig: async (): Promise<ClientConfig> => Promise.reject(new Error('bad yaml')) }));
  t.like(broken[0], { check: 'config', status: 'fail', detail: 'bad yaml' });
  t.false(broken.some((f) => f.check === 'clock'), 'no config, no server to ask');
});

test('no setup block: plain ssh is said not to get tokens, and the askpass is not checked', async (t) => {
  const findings = await runChecks(machine({ files: { '/home/a/.ssh/config': 'Host *\n  User a\n' }, env: {} }));
  t.false(findings.some((f) => f.check === 'askpass'));
  t.regex(findings.find((f) => f.check === 'ssh_config')!.detail, /no setup block/);
});
