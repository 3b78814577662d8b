import { describe, expect, it } from 'vitest';
import { plan } from '../../packages/cli/src/deploy/planner';
import { reservedIdentifiers, type Target } from '../../packages/cli/src/deploy/target';
import type { Json, LiveState, ResourceServerRes } from '../../packages/cli/src/deploy/types';

// The planner's rules on their own (pure: manifests + live state → plan); the suites beside this one drive them
// through the real binary against a real server.
const api = (name: string, spec: ResourceServerRes['spec']): ResourceServerRes => ({ kind: 'ResourceServer', name, spec, source: { file: 'm.yaml', doc: 1 } });
const state = (resourceServers: Json[]): LiveState => ({ resourceServers, clients: [], grants: [], roles: [], selfClientId: 'deployer' });
const SYSTEM = { id: 'rs_sys', identifier: 'https://auth.example.test/api/v2/', name: 'Auth0 Management API', is_system: true };

describe('planner rules', () => {
  it('refuses identifiers the target reserves, under its domain and under the host of its issuer, before any change', () => {
    // reached as 127.0.0.1:3000, answering as https://auth.example.test/ (the audience its discovery gave)
    const target: Target = { domain: '127.0.0.1:3000', origin: 'http://127.0.0.1:3000', audience: 'https://auth.example.test/api/v2/', clientId: 'c', clientSecret: 's' };
    const reserved = reservedIdentifiers(target);
    expect(reserved).toEqual([
      'http://127.0.0.1:3000/api/v2/', 'http://127.0.0.1:3000/userinfo', 'http://127.0.0.1:3000/mfa/', 'http://127.0.0.1:3000/me/',
      'https://auth.example.test/api/v2/', 'https://auth.example.test/userinfo', 'https://auth.example.test/mfa/', 'https://auth.example.test/me/',
    ]);
    const p = plan([
      api('info', { identifier: 'https://auth.example.test/userinfo' }),
      api('me', { identifier: 'http://127.0.0.1:3000/me/' }),
      api('fine', { identifier: 'https://auth.example.test/api/v3/', name: 'Fine' }),
    ], state([SYSTEM]), { prune: false, reserved }, new Map());
    expect(p.blocked).toEqual([
      'm.yaml: ResourceServer info: https://auth.example.test/userinfo is reserved on the target and cannot be an API identifier',
      'm.yaml: ResourceServer me: http://127.0.0.1:3000/me/ is reserved on the target and cannot be an API identifier',
    ]);
    expect(p.changes.map((c) => `${c.action} ${c.key}`)).toEqual(['create https://auth.example.test/api/v3/']);
    // an audience that is no URL adds nothing
    expect(reservedIdentifiers({ ...target, audience: 'urn:management' })).toHaveLength(4);
  });

  it('names an API without spec.name after its manifest, and finds it again by that name when its identifier changes', () => {
    const created = plan([api('orders-api', { identifier: 'https://orders.example.test' })], state([SYSTEM]), { prune: false }, new Map());
    expect(created.changes[0].body).toEqual({ identifier: 'https://orders.example.test', name: 'orders-api' });
    const moved = plan([api('orders-api', { identifier: 'https://orders.example.test/v2' })], state([SYSTEM, { id: 'rs_1', identifier: 'https://orders.example.test', name: 'orders-api' }]), { prune: false }, new Map());
    expect(moved.changes.map((c) => `${c.action} ${c.id} ${c.key}`)).toEqual(['replace rs_1 https://orders.example.test/v2']);
    expect(moved.changes[0].body).toEqual({ identifier: 'https://orders.example.test/v2', name: 'orders-api' });
    // a nameless API (created elsewhere) is found through the name export and import give its manifest
    const nameless = plan([api('urn-orders', { identifier: 'urn:orders:v2' })], state([{ id: 'rs_2', identifier: 'urn:orders' }]), { prune: false }, new Map());
    expect(nameless.changes.map((c) => `${c.action} ${c.id}`)).toEqual(['replace rs_2']);
    // another manifest's API is never taken: no match means a create
    const other = plan([api('billing-api', { identifier: 'urn:billing:v2' })], state([{ id: 'rs_3', identifier: 'urn:orders', name: 'orders-api' }]), { prune: false }, new Map());
    expect(other.changes.map((c) => c.action)).toEqual(['create']);
  });

  it('notes an adoption only for an API whose name the manifests did not give it', () => {
    const live = state([
      { id: 'rs_a', identifier: 'urn:a', name: 'Hand Made' },
      { id: 'rs_b', identifier: 'urn:b', name: 'B API' },
      { id: 'rs_c', identifier: 'urn:c', name: 'c-api' },
      { id: 'rs_d', identifier: 'urn:d', name: 'D API' },
    ]);
    const p = plan([
      api('a-api', { identifier: 'urn:a', name: 'A API' }), api('b-api', { identifier: 'urn:b', name: 'B API' }),
      api('c-api', { identifier: 'urn:c' }), api('d-api', { identifier: 'urn:d', name: 'Renamed D' }),
    ], live, { prune: false }, new Map());
    expect(p.notes).toEqual([
      'ResourceServer a-api adopts urn:a (id rs_a, name "Hand Made"): an existing API these manifests did not create (its name is neither spec.name nor metadata.name); from now on they manage it',
    ]);
  });
});
