// my-engine.ts: SESSION_ENGINE=./my-engine.ts. Sessions in a Map, on the same base as the built-in engines;
// save() merges concurrent saves (it reads the record and writes it with no await in between).
import {
  CreateError,
  MISSING_RECORD,
  SessionBase,
  type EngineContext,
  type LoadedRecord,
} from "fastify-django-sessions";

const rows = new Map<string, { data: string; expires: number }>();

export class SessionStore extends SessionBase {
  static mergesSaves = true;

  protected async loadRecord(): Promise<LoadedRecord> {
    const row = rows.get(this.sessionKey!);
    return row && row.expires > this.context.now() ? { data: this.decode(row.data), stored: row.data } : MISSING_RECORD;
  }
  async exists(key: string) {
    return rows.has(key);
  }
  async save(mustCreate = false) {
    if (this.sessionKey === null) return this.create();
    if (!mustCreate) await this.load();
    const key = this.sessionKey;
    if (mustCreate && rows.has(key)) throw new CreateError(key);
    if (!mustCreate) await this.beforeWrite(key);
    // No await from here on: nothing can change the row between reading and writing it.
    const write = mustCreate ? this.newRecord() : this.updatedRecord(rows.get(key)?.data);
    rows.set(key, { data: write.text, expires: write.expiresAt.getTime() });
    this.recordWritten(write);
  }
  async deleteRecord(key = this.sessionKey) {
    if (key) rows.delete(key);
  }
  static async clearExpired(context: EngineContext) {
    let n = 0;
    for (const [key, row] of rows) if (row.expires <= context.now() && rows.delete(key)) n++;
    return n;
  }
}
