import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { Confirm, ErrorMessage, Loading, PageHeader, useApi } from '../ui';

interface SigningKey { kid: string; cert?: string; fingerprint?: string; thumbprint?: string; current?: boolean; next?: boolean; previous?: boolean; revoked?: boolean; revoked_at?: string; current_since?: string }

const status = (k: SigningKey) => (k.revoked ? 'Revoked' : k.current ? 'Currently used' : k.next ? 'Next in queue' : k.previous ? 'Previously used' : 'Unused');

/** Application signing keys: list, rotate, revoke (GET /keys/signing, POST /keys/signing/rotate, PUT /keys/signing/{kid}/revoke). */
export function SigningKeys() {
  const api = useApi();
  const queries = useQueryClient();
  const { data, error, isLoading } = useQuery({ queryKey: ['signing-keys'], queryFn: () => api.get<SigningKey[]>('/keys/signing') });
  const [confirm, setConfirm] = useState<{ action: 'rotate' } | { action: 'revoke'; kid: string } | undefined>();
  const done = () => { void queries.invalidateQueries({ queryKey: ['signing-keys'] }); setConfirm(undefined); };
  const rotate = useMutation({ mutationFn: () => api.post('/keys/signing/rotate'), onSuccess: done });
  const revoke = useMutation({ mutationFn: (kid: string) => api.put(`/keys/signing/${encodeURIComponent(kid)}/revoke`), onSuccess: done });
  return (
    <>
      <PageHeader title="Signing Keys" subtitle="The keys that sign access and ID tokens for the asymmetric algorithms (published at /.well-known/jwks.json).">
        <button type="button" className="primary" onClick={() => setConfirm({ action: 'rotate' })}>Rotate key</button>
      </PageHeader>
      <ErrorMessage error={error} />
      {isLoading ? <Loading /> : (
        <div className="table-scroll"><table className="list">
          <caption className="sr-only">Signing keys</caption>
          <thead><tr><th scope="col">Key ID</th><th scope="col">Status</th><th scope="col">Thumbprint</th><th scope="col"><span className="sr-only">Actions</span></th></tr></thead>
          <tbody>
            {(data ?? []).map((k) => (
              <tr key={k.kid}>
                <td><code>{k.kid}</code></td>
                <td><span className={`badge ${k.revoked ? 'revoked' : k.current ? 'current' : ''}`}>{status(k)}</span></td>
                <td><code className="small">{k.thumbprint ?? k.fingerprint}</code></td>
                <td>{k.previous && !k.revoked && <button type="button" className="secondary small" aria-label={`Revoke ${k.kid}`} onClick={() => setConfirm({ action: 'revoke', kid: k.kid })}>Revoke</button>}</td>
              </tr>
            ))}
          </tbody>
        </table></div>
      )}
      <Confirm open={confirm?.action === 'rotate'} title="Rotate the signing key?" action="Rotate" busy={rotate.isPending} onCancel={() => setConfirm(undefined)} onConfirm={() => rotate.mutate()}>
        <p>The next key becomes the current one and signs every new token; the current key becomes the previous one and stays in the JWKS, so tokens it signed keep verifying until they expire. A new next key is published.</p>
        <p>APIs that pin a key instead of reading the JWKS must be updated.</p>
        <ErrorMessage error={rotate.error} />
      </Confirm>
      <Confirm open={confirm?.action === 'revoke'} title="Revoke the previous key?" action="Revoke" danger busy={revoke.isPending} onCancel={() => setConfirm(undefined)}
        onConfirm={() => confirm?.action === 'revoke' && revoke.mutate(confirm.kid)}>
        <p>The key leaves the JWKS at once: every token it signed (access tokens and ID tokens still in use) stops verifying everywhere. Users and applications holding such tokens must get new ones.</p>
        <ErrorMessage error={revoke.error} />
      </Confirm>
    </>
  );
}
