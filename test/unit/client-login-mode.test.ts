import test from 'ava';
import { browserHere } from '../../client/browser-here.js';
import { loginMode } from '../../client/commands/login.js';

test('a browser is assumed only where one can be shown', (t) => {
  t.true(browserHere({ DISPLAY: ':0' }, 'linux').ok);
  t.true(browserHere({ WAYLAND_DISPLAY: 'wayland-0', SSH_CONNECTION: '1 2 3 4' }, 'linux').ok, 'X/Wayland forwarded into the session');
  t.deepEqual(browserHere({}, 'linux'), { ok: false, why: 'no DISPLAY or WAYLAND_DISPLAY' });
  t.deepEqual(browserHere({ SSH_TTY: '/dev/pts/1' }, 'linux'), { ok: false, why: 'no DISPLAY or WAYLAND_DISPLAY, in an SSH session' });
  t.true(browserHere({ BROWSER: 'w3m' }, 'linux').ok, 'the user named one');
  t.true(browserHere({}, 'darwin').ok);
  t.deepEqual(browserHere({ SSH_CONNECTION: '1 2 3 4' }, 'darwin'), { ok: false, why: 'in an SSH session' });
  t.true(browserHere({ WSL_DISTRO_NAME: 'Debian' }, 'linux').ok);
});

test('login flags: nothing said is auto; --browser, --no-browser and --device are taken as said', (t) => {
  t.is(loginMode({}), 'auto');
  t.is(loginMode({ browser: true }), 'browser');
  t.is(loginMode({ browser: false }), 'no-browser');
  t.is(loginMode({ device: true, browser: true }), 'device');
});
