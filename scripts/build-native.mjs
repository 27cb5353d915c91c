// Builds the PAM bridge (server-pam/pam_oauth_ssh.c -> server-pam/pam_oauth_ssh.so)
// with the system compiler, when its sources are present.
import { existsSync, chmodSync } from 'node:fs';
import { execFileSync } from 'node:child_process';

for (const bin of ['dist/client/bin.js', 'dist/server-pam/bin.js', 'dist/shared/dev-idp/bin.js']) {
  if (existsSync(bin)) chmodSync(bin, 0o755);
}
if (existsSync('server-pam/Makefile')) {
  execFileSync('make', ['-s', '-C', 'server-pam'], { stdio: 'inherit' });
}
