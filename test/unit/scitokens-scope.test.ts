import test from 'ava';
import { sshUsersFromScope } from '../../server-pam/scitokens.js';

test('ssh scopes: whole names, with or without the slash; bare ssh means any user', (t) => {
  const g = sshUsersFromScope('read:/data ssh:/alice ssh:bob ssh:/jd');
  t.false(g.anyUser);
  t.deepEqual([...g.users].sort(), ['alice', 'bob', 'jd']);
  t.false(g.users.has('jdoe'));
  t.true(sshUsersFromScope('ssh').anyUser);
  t.true(sshUsersFromScope(['ssh:/', 'read']).anyUser, 'scope as a list (scp claim)');
  t.deepEqual([...sshUsersFromScope('ssh:/a/b ssh:/../etc ssh:-x sshx:/y').users], [], 'paths and odd names grant nothing');
  t.deepEqual([...sshUsersFromScope(undefined).users], []);
});
