import { BadRequest, type CheckpointPage, type OffsetWindow, type Page } from '@tessera/core';

export interface OffsetQuery { page?: number; per_page?: number; include_totals?: boolean }

/**
 * Auth0 offset paging, written once. With neither page nor per_page the whole collection comes back (what
 * SDK v4 expects); otherwise per_page defaults to 50 and page to 0.
 */
export function offsetWindow(q: OffsetQuery): OffsetWindow {
  if (q.page === undefined && q.per_page === undefined && !q.include_totals) return { offset: 0 };
  const limit = q.per_page ?? 50;
  // a page far past any real collection is just empty; keep the offset inside what both databases accept
  return { offset: Math.min((q.page ?? 0) * limit, Number.MAX_SAFE_INTEGER), limit };
}

/** A bare array, or `{start, limit, total, <collection>}` when include_totals=true. */
export function offsetBody<T, R>(collection: string, q: OffsetQuery, w: OffsetWindow, page: Page<T>, view: (t: T) => R): unknown {
  const items = page.items.map(view);
  if (!q.include_totals) return items;
  return { start: w.offset, limit: w.limit ?? page.total, total: page.total, [collection]: items };
}

/** A checkpoint position over a short list read whole: Tessera's `from`/`next` tokens are offsets into it. */
export function checkpoint<T>(items: T[], from: string | undefined, take: number): CheckpointPage<T> {
  const start = from === undefined ? 0 : Number(from);
  if (!Number.isSafeInteger(start) || start < 0 || (from !== undefined && !/^\d+$/.test(from))) {
    throw new BadRequest("Query validation error: 'Invalid value for from' on property from.", 'invalid_query_string');
  }
  const slice = items.slice(start, start + take);
  return { items: slice, ...(start + take < items.length && { next: String(start + take) }) };
}
