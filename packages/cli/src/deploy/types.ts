import type { Static } from '@sinclair/typebox';
import type { ClientGrantSpec, ClientSpec, Kind, ResourceServerSpec, RoleSpec } from './schema';

export type ResourceServerSpecT = Static<typeof ResourceServerSpec>;
export type ClientSpecT = Static<typeof ClientSpec>;
export type ClientGrantSpecT = Static<typeof ClientGrantSpec>;
export type RoleSpecT = Static<typeof RoleSpec>;

export type Path = Array<string | number>;

/**
 * Where a document came from: file, 1-based document index, 1-based line when known. `locate` turns a field path
 * in wire names (`['spec', 'token_lifetime']`) into the path as the user spelt it (`spec.tokenLifetime`, or
 * `spec.api_grants[1].scopes` for a grant an Auth0Client declares) and its line.
 */
export interface Source { file: string; doc: number; line?: number; locate?: (path: Path) => { path: string; line?: number } }

/** Metadata fields besides name/replaces (Project Planton's org, env, labels, …): carried into the JSON outputs. */
export type CarriedMetadata = Record<string, unknown>;

interface Base<K extends Kind, S> { kind: K; name: string; spec: S; source: Source; metadata?: CarriedMetadata }
export type ResourceServerRes = Base<'ResourceServer', ResourceServerSpecT> & { replaces?: string };
export type ClientRes = Base<'Client', ClientSpecT>;
/** `audienceFrom`: an Auth0Client grant naming its API by manifest (`value_from.name`), resolved by validate. */
export type ClientGrantRes = Base<'ClientGrant', ClientGrantSpecT> & { audienceFrom?: string };
export type RoleRes = Base<'Role', RoleSpecT>;
export type Resource = ResourceServerRes | ClientRes | ClientGrantRes | RoleRes;

/** One finding of `validate`: an error stops plan/apply, a warning does not. */
export interface Issue {
  severity: 'error' | 'warning';
  file: string;
  doc?: number;
  line?: number;
  /** Dotted field path inside the document, e.g. `spec.scopes[1].value`. */
  path?: string;
  message: string;
}

export class DeployError extends Error {
  constructor(message: string, readonly exitCode = 1) { super(message); }
}

/** Wire shapes the tool reads back (loosely typed: the target may be Tessera or Auth0). */
export type Json = Record<string, unknown>;
export interface LiveRole { id: string; name: string; description?: string; permissions: Array<{ resource_server_identifier: string; permission_name: string }> }
export interface LiveState {
  resourceServers: Json[];
  clients: Json[];
  grants: Json[];
  /** undefined when the target has no /roles endpoint. */
  roles?: LiveRole[];
  /** The client the tool runs as: never planned, never exported, never pruned (as a0deploy does). */
  selfClientId: string;
}

export const MANAGEMENT_API_NAME = 'Auth0 Management API';
