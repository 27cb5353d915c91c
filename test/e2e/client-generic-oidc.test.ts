/**
 * The generic OIDC path end to end with real parts: oidc-provider issues a
 * JWT access token for the host (RFC 8707 resource, scope ssh:/USER) through
 * the device flow; the oauth-ssh client finds the provider by discovery and
 * keeps the token; the server verifies it locally; the real sshd lets the
 * user in.
 */
import test from 'ava';
import { readFile, writeFile } from 'node:fs/promises';
import { clientEnv, runClient } from '../helpers/client.js';
import { startTestIdp } from '../helpers/dev-idp.js';
import { sshResourceServer, startOidcProvider } from '../helpers/oidc-provider.js';
import { BRIDGE_SO } from '../helpers/pam.js';
import { startTestServer } from '../helpers/server.js';
import { startSshd } from '../helpers/sshd.js';
import { createTestUser } from '../helpers/users.js';

const AUD = 'https://ssh.example.org';

test('oauth-ssh with a generic OIDC provider: device login, JWT access token, ssh', async (t) => {
  const user = await createTestUser(t);
  const op = await startOidcProvider(t, {
    clients: [{ client_id: 'oauth-ssh-cli', token_endpoint_auth_method: 'none', grant_types: ['urn:ietf:params:oauth:grant-type:device_code', 'refresh_token'], redirect_uris: [], response_types: [] }],
    accounts: [{ id: 'carol', claims: { preferred_username: 'carol' } }],
    configuration: {
      features: {
        devInteractions: { enabled: false },
        deviceFlow: { enabled: true },
        introspection: { enabled: true },
        revocation: { enabled: true },
        resourceIndicators: sshResourceServer(AUD, () => `ssh:/${user.name}`, 'jwt'),
      },
    },
  });
  // The SSH server still runs its Globus side against the dev IdP; JWTs go to the issuer that minted them.
  const idp = await startTestIdp(t);
  const query = await createTestUser(t, { system: true });
  const server = await startTestServer(t, { authUrl: idp.url, lines: ['idp_suffix nowhere.invalid', 'auth_method globus_auth scitokens', `issuers ${op.issuer}`, `scitokens_audience ${AUD}`, `query_account ${query.name}`] });
  const sshd = await startSshd(t, {
    pamStack: [`auth [success=done default=die] ${BRIDGE_SO} socket=${server.socketPath}`, `account required ${BRIDGE_SO} socket=${server.socketPath}`, 'session required pam_permit.so', ''].join('\n'),
  });
  const client = await clientEnv(t, idp.url, sshd, user.name);
  await writeFile(client.env.OAUTH_SSH_CONFIG!, `client_id: oauth-ssh-cli\nbackend: file\nquery_account: ${query.name}\nhosts:\n  - match: testhost\n    fqdn: ssh.example.org\n    issuer: ${op.issuer}\n    scope: ssh:/${user.name}\n    resource: ${AUD}\n  - match: 127.0.0.1\n    fqdn: ssh.example.org\n    issuer: ${op.issuer}\n    scope: ssh:/${user.name}\n    resource: ${AUD}\n`);

  let approved = false;
  const login = await runClient(client, ['login', client.hostAlias, '--device'], {
    onStderr: (stderr) => {
      const code = /enter the code:\s+(\S+)/.exec(stderr)?.[1];
      if (code && !approved) {
        approved = true;
        void op.approveDevice(code, { accountId: 'carol', resourceScope: `ssh:/${user.name}` });
      }
    },
  });
  t.is(login.code, 0, login.stderr);
  t.regex(login.stderr, /Logged in for ssh\.example\.org as carol/);
  const stored = JSON.parse(await readFile(`${client.home}/.local/share/oauth-ssh/tokens.json`, 'utf8')).data;
  const token = (Object.values(stored)[0] as { accessToken: string }).accessToken;
  t.is(token.split('.').length, 3, 'a JWT access token');

  const ssh = await runClient(client, [...client.sshArgs, client.hostAlias, 'id', '-un']);
  t.is(ssh.code, 0, ssh.stderr);
  t.is(ssh.stdout.trim(), user.name);
  t.like(server.audit.at(-1), { decision: 'SUCCESS', identity: `carol@${op.issuer}` });

  // The in-band queries work for an OIDC host too (they refused every non-Globus token before).
  const accounts = await runClient(client, ['accounts', '--json', '--', ...client.sshArgs, client.hostAlias]);
  t.is(accounts.code, 0, accounts.stderr);
  t.deepEqual(JSON.parse(accounts.stdout), [user.name]);

  // Refresh: a margin longer than the token's life makes the next connection refresh first.
  const list = JSON.parse((await runClient(client, ['token', 'list', '--json'])).stdout);
  t.true(list[0].refresh, 'offline_access brought a refresh token');
  await writeFile(client.env.OAUTH_SSH_CONFIG!, `${await readFile(client.env.OAUTH_SSH_CONFIG!, 'utf8')}refresh_margin: 7200\n`);
  const refreshed = await runClient(client, [...client.sshArgs, client.hostAlias, 'id', '-un']);
  t.is(refreshed.stdout.trim(), user.name, refreshed.stderr);
  const after = JSON.parse(await readFile(`${client.home}/.local/share/oauth-ssh/tokens.json`, 'utf8')).data;
  t.not((Object.values(after)[0] as { accessToken: string }).accessToken, token, 'a new access token from the refresh');

  // Logout revokes at the provider (RFC 7009 endpoint from discovery).
  const out = await runClient(client, ['logout', client.hostAlias]);
  t.is(out.code, 0, out.stderr);
  t.regex(out.stderr, /Logged out of ssh\.example\.org/);
  t.notRegex(out.stderr, /could not revoke/);

  // A discovery document must name the issuer it was fetched for: the same provider reached by
  // another name is refused before any login (openid-client's issuer validation).
  const elsewhere = op.issuer.replace('127.0.0.1', 'localhost');
  await writeFile(client.env.OAUTH_SSH_CONFIG!, (await readFile(client.env.OAUTH_SSH_CONFIG!, 'utf8')).replaceAll(`issuer: ${op.issuer}`, `issuer: ${elsewhere}`));
  const mismatch = await runClient(client, ['login', client.hostAlias, '--device']);
  t.is(mismatch.code, 1, mismatch.stderr);
  t.true(mismatch.stderr.includes(`${elsewhere} has no usable OpenID Connect discovery document`), mismatch.stderr);
  t.regex(mismatch.stderr, /issuer/);
  t.notRegex(mismatch.stderr, /enter the code/);
});
