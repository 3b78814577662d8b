import { BadRequest, type Client, type ClientInput } from '@tessera/core';
import { validatorCompiler } from './http/validation';
import { ClientCreateBody } from './schemas/client';
import type { Services } from './services';

let checkCreateBody: ReturnType<typeof validatorCompiler> | undefined; // compiled on first use (development seeding only)

/** The client_id rule of TESSERA_ADMIN_CLIENT_ID; secrets need 16 characters like TESSERA_ADMIN_CLIENT_SECRET. */
const FIXED_CLIENT_ID = /^[A-Za-z0-9_.-]{1,128}$/;
const MIN_FIXED_SECRET = 16;

/**
 * Development seeding only: a client created with the client_id (and secret) its seed fixes, which the Management
 * API never accepts on create. The body is validated exactly as POST /api/v2/clients validates it, then created by
 * the same service; a bad body throws the same BadRequest and creates nothing.
 */
export async function createClientWithFixedId(services: Services, body: Record<string, unknown>, fixed: { client_id: string; client_secret?: string }): Promise<Client> {
  if (!FIXED_CLIENT_ID.test(fixed.client_id)) throw new BadRequest(`Payload validation error: 'client_id must be 1–128 characters of [A-Za-z0-9_.-]' on property client_id.`, 'invalid_body');
  if (fixed.client_secret !== undefined && fixed.client_secret.length < MIN_FIXED_SECRET) {
    throw new BadRequest(`Payload validation error: 'client_secret must be at least ${MIN_FIXED_SECRET} characters' on property client_secret.`, 'invalid_body');
  }
  checkCreateBody ??= validatorCompiler({ schema: ClientCreateBody, httpPart: 'body' });
  const checked = checkCreateBody(body);
  if (checked.error) throw checked.error;
  return services.clients.create(body as ClientInput & { name: string }, fixed);
}
