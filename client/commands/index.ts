/** The client's commands, in --help order: one list for yargs, the completions and the man page. */
export interface CommandModule {
  command: string;
  describe: string;
  builder: (y: never) => unknown;
  handler: (argv: never) => unknown;
}

export async function loadCommands(): Promise<CommandModule[]> {
  const [{ loginCommand }, { logoutCommand }, { tokenCommand }, { accountsCommand, statusCommand }, { setupCommand }, { doctorCommand }, { completionCommand }] = await Promise.all([
    import('./login.js'),
    import('./logout.js'),
    import('./token.js'),
    import('./host-info.js'),
    import('./setup.js'),
    import('./doctor.js'),
    import('./completion.js'),
  ]);
  return [loginCommand, logoutCommand, tokenCommand, accountsCommand, statusCommand, setupCommand, doctorCommand, completionCommand] as unknown as CommandModule[];
}
