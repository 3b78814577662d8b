export type SubjectType = 'client' | 'user';

export interface ClientGrant {
  id: string;
  client_id?: string;
  audience: string;
  scope?: string[];
  allow_all_scopes?: boolean;
  subject_type: SubjectType;
  organization_usage?: 'deny' | 'allow' | 'require';
  allow_any_organization?: boolean;
  authorization_details_types?: string[];
  default_for?: 'third_party_clients';
  is_system?: boolean;
}

export type ClientGrantCreate = Omit<ClientGrant, 'id' | 'subject_type' | 'is_system'> & { subject_type?: SubjectType };
export type ClientGrantPatch = {
  scope?: string[] | null;
  allow_all_scopes?: boolean | null;
  organization_usage?: ClientGrant['organization_usage'] | null;
  allow_any_organization?: boolean | null;
  authorization_details_types?: string[];
};
