-- The tables fastify-django-sessions' db and cached_db engines use, on SQLite, for applications
-- that use neither kysely nor its migrator (the same statements as the package's
-- sessionTablesMigration() from "fastify-django-sessions/migrations").
--
-- The sessions table is Django's django_session under the default name "sessions"
-- (SESSION_DB_TABLE): the same columns, types and index, the index named as Django names it.
-- To share a Django site's sessions, do not run this on its database: Django's own migration has
-- made django_session already; set SESSION_DB_TABLE=django_session and run only the last
-- statement (session_locks). For another name, replace "sessions" in the first two statements and
-- rename the index <table>_expire_date_<first 8 hex digits of md5(<table> || 'expire_date')>
-- (for django_session: django_session_expire_date_a5c62663); sessionTableStatements("sqlite",
-- table) from "fastify-django-sessions/migrations" prints them for any name.

CREATE TABLE IF NOT EXISTS "sessions" ("session_key" varchar(40) NOT NULL PRIMARY KEY, "session_data" text NOT NULL, "expire_date" datetime NOT NULL);
CREATE INDEX IF NOT EXISTS "sessions_expire_date_16e4c444" ON "sessions" ("expire_date");

-- Leases of the route lock (routes that run one request of a session at a time); not Django's.
-- expires_at: epoch milliseconds.
CREATE TABLE IF NOT EXISTS "session_locks" ("session_key" varchar(40) NOT NULL PRIMARY KEY, "token" varchar(64) NOT NULL, "expires_at" bigint NOT NULL);
