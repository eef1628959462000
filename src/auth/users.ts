/** The users table: lookups login and get_user need. */
import type { Kysely } from "kysely";
import type { Database } from "../db/database.js";

export interface User {
  id: number;
  username: string;
  password: string;
  isStaff: boolean;
}

type Row = { id: number; username: string; password: string; is_staff: number };

const toUser = (row: Row): User => ({
  id: row.id,
  username: row.username,
  password: row.password,
  isStaff: row.is_staff === 1,
});

export class Users {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly dateValue: (epochMs: number) => string | Date,
  ) {}

  async byId(id: number): Promise<User | undefined> {
    const row = await this.db
      .selectFrom("users")
      .select(["id", "username", "password", "is_staff"])
      .where("id", "=", id)
      .executeTakeFirst();
    return row && toUser(row);
  }

  async byUsername(username: string): Promise<User | undefined> {
    const row = await this.db
      .selectFrom("users")
      .select(["id", "username", "password", "is_staff"])
      .where("username", "=", username)
      .executeTakeFirst();
    return row && toUser(row);
  }

  async setPassword(id: number, passwordHash: string): Promise<void> {
    await this.db.updateTable("users").set({ password: passwordHash }).where("id", "=", id).execute();
  }

  async recordLogin(id: number, epochMs: number): Promise<void> {
    await this.db
      .updateTable("users")
      .set({ last_login: this.dateValue(epochMs) })
      .where("id", "=", id)
      .execute();
  }
}
