/**
 * Can a browser be shown to the person at this terminal? gh and tsh ask the
 * same before opening one: on a headless server, or in an SSH session
 * without X forwarding, "opening" a browser shows nothing, and a login
 * waiting for its redirect would wait the full five minutes for nothing.
 */
export type BrowserHere = { ok: true } | { ok: false; why: string };

export function browserHere(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): BrowserHere {
  // The user said how to open one (as gh honours it): trust that, even on a server.
  if (env.BROWSER) return { ok: true };
  const inSsh = Boolean(env.SSH_CONNECTION || env.SSH_CLIENT || env.SSH_TTY);
  if (platform === 'darwin' || platform === 'win32') return inSsh ? { ok: false, why: 'in an SSH session' } : { ok: true };
  if (env.DISPLAY || env.WAYLAND_DISPLAY) return { ok: true };
  if (env.WSL_DISTRO_NAME && !inSsh) return { ok: true }; // the Windows browser, through wslview or explorer.exe
  return { ok: false, why: `no DISPLAY or WAYLAND_DISPLAY${inSsh ? ', in an SSH session' : ''}` };
}
