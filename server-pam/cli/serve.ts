import type { Argv } from 'yargs';
import { loadServerConfig } from '../config.js';
import { startDaemon } from '../daemon.js';

export const serveCommand = {
  command: 'serve',
  describe: 'run the daemon that pam_oauth_ssh.so talks to',
  builder: (y: Argv) =>
    y
      .option('config', { type: 'string', describe: 'config file (default /etc/oauth_ssh/oauth-ssh.conf, then globus-ssh.conf)' })
      .option('socket', { type: 'string', describe: 'socket path (overrides the config\'s `socket`)' }),
  handler: async (argv: { config?: string; socket?: string }) => {
    const config = loadServerConfig(argv.config);
    if (argv.socket) config.socketPath = argv.socket;
    const daemon = await startDaemon(config);
    const stop = () => void daemon.close().then(() => process.exit(0));
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
  },
};
