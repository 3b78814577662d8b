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
}

export type OrganizationCreate = Omit<Organization, 'id'>;
export interface OrganizationPatch {
  name?: string;
  display_name?: string | null;
  branding?: OrganizationBranding | null;
  metadata?: Record<string, string | null> | null;
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
