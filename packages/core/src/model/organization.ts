import type { OrganizationConnection } from './connection';

import type { TokenQuota } from './token-quota';
export interface OrganizationBranding {
  logo_url?: string;
  colors?: { primary: string; page_background: string };
}

export interface Organization {
  id: string;
  name: string;
  display_name?: string;
  branding?: OrganizationBranding;
  metadata?: Record<string, string>;
  /** Stored and returned: Tessera has no app entitlements. */
  is_app_entitlement_active?: boolean;
  /** The organization's connection settings (served by /enabled_connections and /connections, not in the organization's own view). */
  connections?: OrganizationConnection[];
  /** Auth0's fine-grained M2M token quota of the organization (tokens issued with its `org_id`). */
  token_quota?: TokenQuota;
  /**
   * Whether third-party clients (`is_first_party: false`) may log users in through the organization: `block`
   * refuses them at /authorize. Absent: allowed (Tessera's rule before the field existed; Auth0 defaults to block).
   */
  third_party_client_access?: (typeof THIRD_PARTY_CLIENT_ACCESS)[number];
}

export const THIRD_PARTY_CLIENT_ACCESS = ['block', 'allow'] as const;

/** A connection enabled with the organization on create (`enabled_connections`, the classic API's body). */
export interface OrganizationConnectionOnCreate {
  connection_id: string;
  assign_membership_on_login?: boolean;
  show_as_button?: boolean;
  is_signup_enabled?: boolean;
}

export type OrganizationCreate = Omit<Organization, 'id' | 'connections'> & { enabled_connections?: OrganizationConnectionOnCreate[] };
export interface OrganizationPatch {
  third_party_client_access?: Organization['third_party_client_access'];
  name?: string;
  display_name?: string | null;
  branding?: OrganizationBranding | null;
  metadata?: Record<string, string | null> | null;
  is_app_entitlement_active?: boolean;
  token_quota?: TokenQuota | null;
}

/** What POST /organizations/{id}/client-grants answers: the grant seen from the organization. */
export interface OrganizationClientGrantView {
  grant_id: string;
  client_id?: string;
  audience: string;
  scope?: string[];
  organization_usage?: 'deny' | 'allow' | 'require';
  allow_any_organization?: boolean;
}
