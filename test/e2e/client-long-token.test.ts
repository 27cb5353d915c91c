/** A 4 KB JWT through the oauth-ssh client, the real ssh (askpass answers stop at 1023 characters) and the real sshd. */
import test from 'ava';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { clientEnv, runClient } from '../helpers/client.js';
import { IDS, SSH_FQDN, startTestIdp } from '../helpers/dev-idp.js';
import { startJwtIssuer } from '../helpers/jwt-issuer.js';
import { BRIDGE_SO } from '../helpers/pam.js';
import { startTestServer } from '../helpers/server.js';
import { startSshd } from '../helpers/sshd.js';
import { createTestUser } from '../helpers/users.js';

test('a 4 KB token logs in through the client, sent in parts', async (t) => {
  const idp = await startTestIdp(t);
  const issuer = await startJwtIssuer(t);
  const user = await createTestUser(t);
  const server = await startTestServer(t, { authUrl: idp.url, mapFile: `alice@example.org ${user.name}\n`, lines: ['auth_method globus_auth, scitokens', `issuers ${issuer.issuer}`, 'scitokens_audience https://ssh.example.org'] });
  const sshd = await startSshd(t, {
    pamStack: [`auth [success=done default=die] ${BRIDGE_SO} socket=${server.socketPath}`, `account required ${BRIDGE_SO} socket=${server.socketPath}`, 'session required pam_permit.so', ''].join('\n'),
  });
  const client = await clientEnv(t, idp.url, sshd, user.name);
  const jwt = await issuer.mint({ sub: 'long', aud: 'https://ssh.example.org', scope: `ssh:/${user.name}`, padding: 'p'.repeat(3500) });
  t.true(jwt.length > 4000);
  // As if a provider had issued it: the client's store holds it for the host.
  const dir = join(client.home, '.local/share/oauth-ssh');
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const key = `${SSH_FQDN}@${new URL(idp.url).host}`;
  const now = Math.floor(Date.now() / 1000);
  await writeFile(join(dir, 'tokens.json'), JSON.stringify({ version: 1, data: { [key]: { accessToken: jwt, refreshToken: null } } }), { mode: 0o600 });
  await writeFile(
    join(dir, 'hosts.json'),
    JSON.stringify({ version: 1, data: { [key]: { key, fqdn: SSH_FQDN, authUrl: idp.url, clientId: IDS.cli, resourceServer: IDS.sshService, scope: `https://auth.globus.org/scopes/${SSH_FQDN}/ssh`, expiresAt: now + 600, identity: null, idp: null, idpId: null, authTime: null, mfa: null, hasRefresh: false, backend: 'file', updatedAt: now } } }),
    { mode: 0o600 },
  );
  const result = await runClient(client, [...client.sshArgs, client.hostAlias, 'id', '-un']);
  t.is(result.code, 0, result.stderr);
  t.is(result.stdout.trim(), user.name);
  t.like(server.audit.at(-1), { decision: 'SUCCESS', identity: `long@${issuer.issuer}` });
});
