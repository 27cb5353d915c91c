/**
 * `oauth-ssh doctor`: what stands between this machine and a working
 * login, each with what to fix (as `brew doctor` and `gh auth status` do):
 * the client config, ssh, the ssh_config blocks setup wrote and the helper
 * they run, the askpass hand-off in the environment, where tokens are kept,
 * and the clock against the authorization server's. The checks run over an
 * injected context, so each is unit-tested without a real machine.
 */
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { Argv } from 'yargs';
import { errorMessage } from '../../shared/errors.js';
import type { ClientConfig } from '../config.js';

export interface Finding {
  status: 'ok' | 'warn' | 'fail';
  check: string;
  detail: string;
  fix?: string;
}

export interface DoctorContext {
  env: NodeJS.ProcessEnv;
  /** ~/.ssh/config and the files setup recorded editing. */
  sshConfigFiles: string[];
  /** Where setup keeps the standalone askpass. */
  askpass: string;
  loadConfig(): Promise<ClientConfig>;
  /** The store new tokens go to, as a person reads it; throws when there is none. */
  store(config: ClientConfig): Promise<string>;
  sshVersion(): Promise<string>;
  /** The authorization server's clock (its Date header), ms; throws when unreachable. */
  serverClock(authUrl: string): Promise<number>;
  now(): number;
  readFile(path: string): string | null;
  isExecutable(path: string): boolean;
}

/** Beyond this, tokens look expired early or not yet valid (servers allow about a minute of skew). */
const CLOCK_SKEW_LIMIT_S = 60;

const unquote = (word: string) => (/^'.*'$/s.test(word) ? word.slice(1, -1).replace(/'\\''/g, "'") : word);

/** The program a launcher script runs: the first word after `exec`. */
function launcherTarget(script: string): string | null {
  const m = /^exec\s+('(?:[^']|'\\'')*'|\S+)/m.exec(script);
  return m ? unquote(m[1]!) : null;
}

async function configCheck(ctx: DoctorContext): Promise<{ finding: Finding; config: ClientConfig | null }> {
  try {
    const config = await ctx.loadConfig();
    const where = config.file ?? 'no config file (defaults)';
    if (!config.clientId && !config.hosts.some((h) => h.clientId)) {
      return { config, finding: { status: 'fail', check: 'config', detail: `${where}: no client_id`, fix: 'set "client_id" (the oauth-ssh client\'s id at your authorization server) in the client config (client/CONFIG.md)' } };
    }
    return { config, finding: { status: 'ok', check: 'config', detail: `${where}; authorization server ${config.authUrl}` } };
  } catch (err) {
    return { config: null, finding: { status: 'fail', check: 'config', detail: errorMessage(err), fix: 'correct the client config (client/CONFIG.md)' } };
  }
}

async function sshCheck(ctx: DoctorContext): Promise<Finding> {
  try {
    return { status: 'ok', check: 'ssh', detail: (await ctx.sshVersion()).trim() };
  } catch (err) {
    return { status: 'fail', check: 'ssh', detail: errorMessage(err), fix: 'install the OpenSSH client (Debian/Ubuntu: apt install openssh-client)' };
  }
}

/** The setup blocks, the helper each runs, and what that helper runs in turn. */
async function setupChecks(ctx: DoctorContext): Promise<{ findings: Finding[]; blocks: number }> {
  const { ourBlocks } = await import('../ssh-config-setup.js');
  const findings: Finding[] = [];
  let blocks = 0;
  for (const file of [...new Set(ctx.sshConfigFiles)]) {
    const text = ctx.readFile(file);
    if (text === null) continue;
    const before = text.split(/^\s*Match\s+host\s+"[^"]*"\s+exec\s+"[^"]*ensure %h"/im)[0]!;
    for (const block of ourBlocks(text)) {
      blocks++;
      const helper = unquote(block.helper);
      const script = ctx.readFile(helper);
      if (script === null || !ctx.isExecutable(helper)) {
        findings.push({ status: 'fail', check: 'ssh_config', detail: `${file}: the block for "${block.pattern}" runs ${helper}, which is missing`, fix: `run \`oauth-ssh setup '${block.pattern}' --ssh-config ${file}\` again` });
        continue;
      }
      const target = launcherTarget(script);
      if (target === null || !ctx.isExecutable(target)) {
        findings.push({ status: 'fail', check: 'helper', detail: `${helper} runs ${target ?? 'nothing it names'}, which is not there any more`, fix: `run \`oauth-ssh setup '${block.pattern}' --ssh-config ${file}\` again` });
        continue;
      }
      if (/\/node$/.test(target)) {
        findings.push({ status: 'warn', check: 'helper', detail: `${helper} runs node by its path (${target}); a node upgrade breaks it`, fix: `run \`oauth-ssh setup '${block.pattern}' --ssh-config ${file}\` with the installed oauth-ssh` });
      }
      findings.push({ status: 'ok', check: 'ssh_config', detail: `${file}: "${block.pattern}" -> ${helper} -> ${target}` });
    }
    if (blocks > 0 && /^\s*KbdInteractiveAuthentication\s+no\b/im.test(before)) {
      findings.push({ status: 'warn', check: 'ssh_config', detail: `${file} says KbdInteractiveAuthentication no before the oauth-ssh block, and ssh keeps the first value`, fix: 'remove it for the oauth-ssh hosts' });
    }
  }
  if (blocks === 0) findings.push({ status: 'ok', check: 'ssh_config', detail: 'no setup block: plain ssh does not get tokens (oauth-ssh HOST does)', fix: 'for plain ssh, scp, git and IDEs: `oauth-ssh setup "*.example.org"`' });
  return { findings, blocks };
}

function askpassCheck(ctx: DoctorContext): Finding {
  const line = `export SSH_ASKPASS='${ctx.askpass}' SSH_ASKPASS_REQUIRE=force`;
  if (ctx.env.SSH_ASKPASS !== ctx.askpass) {
    return { status: 'fail', check: 'askpass', detail: ctx.env.SSH_ASKPASS ? `SSH_ASKPASS is ${ctx.env.SSH_ASKPASS}, not oauth-ssh's askpass` : 'SSH_ASKPASS is not set: plain ssh cannot answer the token prompt', fix: `add to your shell profile, then open a new shell: ${line}` };
  }
  if (ctx.env.SSH_ASKPASS_REQUIRE !== 'force') {
    return { status: 'fail', check: 'askpass', detail: `SSH_ASKPASS_REQUIRE is ${ctx.env.SSH_ASKPASS_REQUIRE ?? 'not set'}; ssh then uses askpass only without a terminal`, fix: `set it with the askpass in your shell profile: ${line}` };
  }
  if (!ctx.isExecutable(ctx.askpass)) return { status: 'fail', check: 'askpass', detail: `${ctx.askpass} is missing`, fix: 'run `oauth-ssh setup PATTERN` again' };
  return { status: 'ok', check: 'askpass', detail: `SSH_ASKPASS=${ctx.askpass}, SSH_ASKPASS_REQUIRE=force` };
}

async function storeCheck(ctx: DoctorContext, config: ClientConfig): Promise<Finding> {
  try {
    const where = await ctx.store(config);
    if (/lost at reboot/.test(where)) return { status: 'warn', check: 'store', detail: `tokens go to the ${where}`, fix: 'for tokens that last: a Secret Service (gnome-keyring, KWallet, KeePassXC) with "backend: auto", or "backend: file"' };
    return { status: 'ok', check: 'store', detail: `tokens go to the ${where}` };
  } catch (err) {
    return { status: 'fail', check: 'store', detail: errorMessage(err), fix: 'start a Secret Service, or set "backend: file" in the client config' };
  }
}

async function clockCheck(ctx: DoctorContext, config: ClientConfig): Promise<Finding> {
  try {
    const skew = Math.round((ctx.now() - (await ctx.serverClock(config.authUrl))) / 1000);
    const off = `${Math.abs(skew)} s ${skew > 0 ? 'ahead of' : 'behind'} ${config.authUrl}`;
    if (Math.abs(skew) > CLOCK_SKEW_LIMIT_S) return { status: 'fail', check: 'clock', detail: `this clock is ${off}: tokens look expired early, or not valid yet`, fix: 'turn on time sync (timedatectl set-ntp true, or chrony/ntpd)' };
    return { status: 'ok', check: 'clock', detail: Math.abs(skew) <= 1 ? `in step with ${config.authUrl}` : off };
  } catch (err) {
    return { status: 'warn', check: 'clock', detail: `could not read the time of ${config.authUrl} (${errorMessage(err)})` };
  }
}

export async function runChecks(ctx: DoctorContext): Promise<Finding[]> {
  const { finding, config } = await configCheck(ctx);
  const setup = await setupChecks(ctx);
  return [
    finding,
    await sshCheck(ctx),
    ...setup.findings,
    ...(setup.blocks > 0 ? [askpassCheck(ctx)] : []),
    ...(config ? [await storeCheck(ctx, config), await clockCheck(ctx, config)] : []),
  ];
}

const MARK = { ok: 'ok  ', warn: 'warn', fail: 'FAIL' } as const;

export function formatFindings(findings: Finding[]): string {
  return findings.map((f) => `${MARK[f.status]} ${f.check}: ${f.detail}${f.fix && f.status !== 'ok' ? `\n     fix: ${f.fix}` : ''}`).join('\n');
}

/** The real machine. */
async function machine(): Promise<DoctorContext> {
  const [{ loadClientConfig }, { launcherPaths, recordedFiles }, { sshProgram }, { isExecutable }] = await Promise.all([import('../config.js'), import('../ssh-config-setup.js'), import('../own-ssh.js'), import('../launcher.js')]);
  return {
    env: process.env,
    sshConfigFiles: [join(homedir(), '.ssh', 'config'), ...recordedFiles()],
    askpass: launcherPaths().askpass,
    loadConfig: loadClientConfig,
    store: async (config) => {
      const [{ TokenStore }, { describeStore }] = await Promise.all([import('../store/token-store.js'), import('../store/secret-store.js')]);
      return describeStore((await TokenStore.open(config.backend, () => {}).backend()).name);
    },
    sshVersion: async () => {
      const { execFile } = await import('node:child_process');
      const { sshSpawnError } = await import('../own-ssh.js');
      return new Promise((resolve, reject) =>
        execFile(sshProgram(), ['-V'], (err, _stdout, stderr) => (err && typeof err.code === 'string' ? reject(sshSpawnError(err as NodeJS.ErrnoException)) : resolve(stderr))),
      );
    },
    serverClock: async (authUrl) => {
      const res = await fetch(authUrl, { method: 'HEAD', signal: AbortSignal.timeout(5000), redirect: 'manual' });
      const date = res.headers.get('date');
      if (!date) throw new Error('no Date header');
      // The Date header has whole seconds: count from the middle of the second it names.
      return Date.parse(date) + 500;
    },
    now: () => Date.now(),
    readFile: (path) => (existsSync(path) ? readFileSync(path, 'utf8') : null),
    isExecutable,
  };
}

export const doctorCommand = {
  command: 'doctor',
  describe: 'check the config, ssh, the setup blocks and helper, the askpass hand-off, the token store and the clock, and say what to fix',
  builder: (y: Argv) => y.option('json', { type: 'boolean', default: false, describe: 'the findings as JSON' }),
  handler: async (argv: { json: boolean }) => {
    const findings = await runChecks(await machine());
    console.log(argv.json ? JSON.stringify(findings, null, 2) : formatFindings(findings));
    if (findings.some((f) => f.status === 'fail')) process.exitCode = 1;
  },
};
