/**
 * Names the harness gives what it creates on the system (PAM services, temp
 * directories): "test" for the suite, "demo" for scripts/demo, so that a demo
 * and a test run (and scripts/test-cleanup) never touch each other's things.
 */
export type Namespace = 'test' | 'demo';
let current: Namespace = 'test';

export function useNamespace(namespace: Namespace): void {
  current = namespace;
}

/** The PAM service prefix: oauth-ssh-test- or oauth-ssh-demo-. */
export const servicePrefix = (): string => `oauth-ssh-${current}-`;

/** A temp directory label in the current namespace ("oauth-ssh-sshd-" becomes "oauth-ssh-demo-sshd-" for the demo). */
export const tempLabel = (label: string): string => (current === 'test' ? label : label.replace(/^oauth-ssh-(test-)?/, `oauth-ssh-${current}-`));
