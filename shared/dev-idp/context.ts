import type { Directory } from './directory.js';
import type { DevIdpState } from './state.js';
import type { IdTokenSigner } from './id-token.js';

/** What every route handler needs: static directory, mutable state, issuer URL and signing key. */
export interface DevIdpContext {
  directory: Directory;
  state: DevIdpState;
  signer: IdTokenSigner;
  issuer(): string;
}
