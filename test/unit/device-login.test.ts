import test from 'ava';
import { deviceLogin } from '../../server-pam/device-login.js';
import type { PamConversation } from '../../server-pam/protocol.js';
import type { DeviceFlowProvider, DevicePoll } from '../../shared/providers/provider.js';

/** A provider that says "pending" forever, counting polls; a fake, for timing faults a real IdP does not let us steer. */
function pendingProvider(polls: { n: number }, answers: DevicePoll[] = []): DeviceFlowProvider {
  return {
    startDeviceAuthorization: async () => ({ deviceCode: 'dc', userCode: 'BCDF-GHJK', verificationUri: 'https://idp.example/device', verificationUriComplete: null, expiresIn: 600, interval: 0.05 as unknown as number }),
    pollDevice: async () => {
      polls.n++;
      return answers.shift() ?? { status: 'pending' };
    },
  };
}

const conversation = (prompt: () => Promise<string | undefined>) => ({ prompt, keepalive: () => {} }) as unknown as PamConversation;

test('a user who hangs up at the device prompt is not waited for: polling stops', async (t) => {
  const polls = { n: 0 };
  const conv = conversation(() => new Promise((_, reject) => setTimeout(() => reject(new Error('bridge closed the connection')), 120)));
  await t.throwsAsync(deviceLogin(pendingProvider(polls), conv, 'alice', { deadlineSeconds: 30, qr: false }));
  const atHangUp = polls.n;
  await new Promise((r) => setTimeout(r, 300));
  t.true(polls.n <= atHangUp + 1, `polled ${polls.n - atHangUp} more times after the hang-up`);
});

test('slow_down adds 5 s to the interval; approval after an early Enter still logs in', async (t) => {
  const polls = { n: 0 };
  const provider = pendingProvider(polls, [{ status: 'pending' }, { status: 'approved', accessToken: 'AT' }]);
  const token = await deviceLogin(provider, conversation(async () => ''), 'alice', { deadlineSeconds: 30, qr: false });
  t.is(token, 'AT');
  t.is(polls.n, 2);
  const slowed = { n: 0 };
  await t.throwsAsync(deviceLogin(pendingProvider(slowed, [{ status: 'slow_down' }]), conversation(async () => ''), 'alice', { deadlineSeconds: 2, qr: false }), { message: /not approved in time/ });
  t.is(slowed.n, 1, 'after slow_down the next poll would come 5 s later, past the 2 s deadline: it ended without polling again');
});

test('an expired device code and a denial end the login with their own messages', async (t) => {
  const expired = pendingProvider({ n: 0 }, [{ status: 'expired' }]);
  await t.throwsAsync(deviceLogin(expired, conversation(async () => ''), 'alice', { deadlineSeconds: 30, qr: false }), { message: /code expired before it was approved/ });
  const denied = pendingProvider({ n: 0 }, [{ status: 'denied' }]);
  await t.throwsAsync(deviceLogin(denied, conversation(async () => ''), 'alice', { deadlineSeconds: 30, qr: false }), { message: /denied at the authorization server/ });
});
