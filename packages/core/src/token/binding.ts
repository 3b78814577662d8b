import { InvalidRequest } from '../errors';
import type { Client, ResourceServer } from '../model';

/** What the token endpoint knows about sender constraint for one request. */
export interface BindingInput {
  client: Client;
  /** True for a public client (no client authentication). */
  publicClient: boolean;
  /** Thumbprint of the checked DPoP proof's key, when a proof was sent. */
  jkt?: string;
  /** RFC 8705 `x5t#S256` of the client certificate on the TLS connection, when there was one. */
  x5t?: string;
}

/** What a bound access token carries: a DPoP key thumbprint (RFC 9449 §6) or a certificate thumbprint (RFC 8705 §3.1). */
export type Cnf = { jkt: string } | { 'x5t#S256': string };

/**
 * The decision for one access token: bound to a DPoP key (`cnf.jkt`, token_type DPoP), bound to the client
 * certificate (`cnf["x5t#S256"]`, token_type stays Bearer, RFC 8705 §3), or plain Bearer.
 */
export interface Binding {
  tokenType: 'Bearer' | 'DPoP';
  cnf?: Cnf;
}

export const BEARER: Binding = { tokenType: 'Bearer' };

type Policy = 'none' | 'allowed' | 'required';

/**
 * The API's DPoP policy for this client: `proof_of_possession` with mechanism dpop is "allowed", or "required"
 * (for every client, or only public ones with `required_for: public_clients`). An mTLS policy is not a DPoP
 * policy. The built-in /userinfo audience allows DPoP (RFC 9449 §7 at /userinfo); see docs/compatibility.md.
 */
function policyOf(api: ResourceServer | 'userinfo', publicClient: boolean): Policy {
  if (api === 'userinfo') return 'allowed';
  const pop = api.proof_of_possession;
  if (!pop || pop.mechanism !== 'dpop') return 'none';
  return requirement(pop, publicClient);
}

function requirement(pop: NonNullable<ResourceServer['proof_of_possession']>, publicClient: boolean): Policy {
  if (!pop.required) return 'allowed';
  return pop.required_for === 'public_clients' && !publicClient ? 'allowed' : 'required';
}

/**
 * Contract §7.9's issuance matrix: client `require_proof_of_possession` × proof sent × API policy.
 *
 * | client requires | proof | none     | allowed | required |
 * |-----------------|-------|----------|---------|----------|
 * | no              | no    | Bearer   | Bearer  | refused  |
 * | no              | yes   | Bearer   | bound   | bound    |
 * | yes             | no    | refused  | refused | refused  |
 * | yes             | yes   | refused  | bound   | bound    |
 *
 * A refusal names its rule: with policy "none" the API is the obstacle (no proof, DPoP or certificate, helps),
 * otherwise the missing proof.
 */
export function bindingFor(input: BindingInput, api: ResourceServer | 'userinfo'): Binding {
  if (api !== 'userinfo' && api.proof_of_possession?.mechanism === 'mtls') return mtlsBinding(input, api);
  const policy = policyOf(api, input.publicClient);
  const clientRequires = input.client.require_proof_of_possession === true;
  const audience = api === 'userinfo' ? 'userinfo' : api.identifier;
  if (policy === 'none' && clientRequires) {
    // §7.9 "client requires PoP × RS policy none": nothing the client could send makes a bound token here
    if (input.jkt !== undefined) throw new InvalidRequest(`The client requires proof of possession but the API "${audience}" does not accept DPoP-bound tokens`);
    throw new InvalidRequest(`The client requires proof of possession but the API "${audience}" has no proof_of_possession policy (it accepts neither DPoP- nor certificate-bound tokens)`);
  }
  if (input.jkt === undefined) {
    if (clientRequires) throw new InvalidRequest('DPoP proof required: the client requires proof of possession (require_proof_of_possession)');
    if (policy === 'required') throw new InvalidRequest(`DPoP proof required: the API "${audience}" requires proof of possession`);
    return BEARER;
  }
  if (policy === 'none') return BEARER;
  return { tokenType: 'DPoP', cnf: { jkt: input.jkt } };
}

/**
 * The same matrix for an API whose mechanism is mtls: the "proof" is a client certificate on the connection.
 * A bound token carries `cnf["x5t#S256"]` and stays `token_type: Bearer` (RFC 8705 §3). A DPoP proof sent to
 * such an API binds nothing (as for an API without a DPoP policy).
 */
function mtlsBinding(input: BindingInput, api: ResourceServer): Binding {
  const policy = requirement(api.proof_of_possession!, input.publicClient);
  if (input.x5t === undefined) {
    if (input.client.require_proof_of_possession === true) {
      throw new InvalidRequest('Client certificate required: the client requires proof of possession (require_proof_of_possession)');
    }
    if (policy === 'required') throw new InvalidRequest(`Client certificate required: the API "${api.identifier}" requires mTLS-bound tokens`);
    return BEARER;
  }
  return { tokenType: 'Bearer', cnf: { 'x5t#S256': input.x5t } };
}

/** The binding input of a token request after client authentication and the DPoP check. */
export const popOf = (ctx: { client: Client; authMethod?: string; dpop?: { jkt: string }; x5t?: string }): BindingInput =>
  ({ client: ctx.client, publicClient: ctx.authMethod === 'none', jkt: ctx.dpop?.jkt, x5t: ctx.x5t });
