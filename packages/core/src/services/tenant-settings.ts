import type { TokenQuota } from '../model';
import type { TokenQuotaDefaults } from '../token/m2m/quota';
import type { Store } from '../ports';
import type { ChangeFeed } from './changes';
import { ReadCache } from './read-cache';

/** Auth0's `default_token_quota`: the `token_quota` of clients and organizations without their own. */
export interface DefaultTokenQuota { clients?: TokenQuota; organizations?: TokenQuota }

/** Auth0's tenant settings, as far as Tessera keeps them. */
export interface TenantSettings {
  default_token_quota?: DefaultTokenQuota;
}

/** `PATCH /tenants/settings`: a given field replaces the stored one whole; `null` removes it. */
export interface TenantSettingsPatch {
  default_token_quota?: DefaultTokenQuota | null;
}

const META_KEY = 'tenant_settings';

/**
 * `/api/v2/tenants/settings`: one JSON document in `meta`. Until it is first written, the settings are `initial`
 * (from the environment); once written, the stored document is the whole truth. Read through a cache the change feed
 * clears, so the token path reads no storage once warm and a write reaches every instance.
 */
export class TenantSettingsService {
  private readonly cache = new ReadCache<TenantSettings>(1);

  constructor(private readonly deps: { store: Store; changes: ChangeFeed; initial: TenantSettings }) {
    deps.changes.subscribe(() => this.cache.clear());
  }

  get(): Promise<TenantSettings> {
    return this.cache.get('settings', () => this.load());
  }

  /** The client_credentials quotas that apply to clients / organizations without their own (token path: cached). */
  async quotaDefaults(): Promise<TokenQuotaDefaults> {
    const d = (await this.get()).default_token_quota;
    return { clients: d?.clients?.client_credentials, organizations: d?.organizations?.client_credentials };
  }

  async update(patch: TenantSettingsPatch): Promise<TenantSettings> {
    const next = await this.load();
    if (patch.default_token_quota === undefined) return next; // nothing to change: the environment's defaults stay live
    if (patch.default_token_quota === null) delete next.default_token_quota;
    else next.default_token_quota = structuredClone(patch.default_token_quota);
    await this.deps.store.write((tx) => tx.meta.set(META_KEY, JSON.stringify(next)));
    this.deps.changes.notify();
    return next;
  }

  private async load(): Promise<TenantSettings> {
    const raw = await this.deps.store.meta.get(META_KEY);
    return raw === undefined ? structuredClone(this.deps.initial) : JSON.parse(raw) as TenantSettings;
  }
}
