import type { MetaRepo } from '@tessera/core';
import type { Db } from '../db';

export class SqlMetaRepo implements MetaRepo {
  constructor(private readonly db: Db) {}

  async get(key: string): Promise<string | undefined> {
    const row = await this.db.selectFrom('meta').select('value').where('key', '=', key).executeTakeFirst();
    return row?.value;
  }

  async set(key: string, value: string): Promise<void> {
    await this.db.insertInto('meta').values({ key, value }).onConflict((oc) => oc.column('key').doUpdateSet({ value })).execute();
  }

  async take(key: string): Promise<string | undefined> {
    const row = await this.db.deleteFrom('meta').where('key', '=', key).returning('value').executeTakeFirst();
    return row?.value;
  }
}
