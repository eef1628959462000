-- The tables fastify-django-sessions' db and cached_db engines use, on PostgreSQL, for
-- applications that use neither kysely nor its migrator (the same statements as the package's
-- sessionTablesMigration() from "fastify-django-sessions/migrations"). They go in the first
-- schema of the connection's search_path.
--
-- The sessions table is Django's django_session under the default name "sessions"
-- (SESSION_DB_TABLE): the same columns, types and indexes, the indexes named as Django names them
-- (Django adds the varchar_pattern_ops one to a primary key on PostgreSQL, for LIKE prefixes).
-- To share a Django site's sessions, do not run this on its database: Django's own migration has
-- made django_session already; set SESSION_DB_TABLE=django_session and run only the last
-- statement (session_locks). For another name, replace "sessions" in the first three statements
-- and rename the indexes <table>_<column>_<first 8 hex digits of md5(<table> || <column>)>[_like]
-- (for django_session: django_session_expire_date_a5c62663 and
-- django_session_session_key_c0390e0f_like; Django shortens names over 63 characters);
-- sessionTableStatements("postgres", table) from "fastify-django-sessions/migrations" prints them
-- for any name.

CREATE TABLE IF NOT EXISTS "sessions" ("session_key" varchar(40) NOT NULL PRIMARY KEY, "session_data" text NOT NULL, "expire_date" timestamp with time zone NOT NULL);
CREATE INDEX IF NOT EXISTS "sessions_expire_date_16e4c444" ON "sessions" ("expire_date");
CREATE INDEX IF NOT EXISTS "sessions_session_key_58f9471b_like" ON "sessions" ("session_key" varchar_pattern_ops);

-- Leases of the route lock (routes that run one request of a session at a time); not Django's.
-- expires_at: epoch milliseconds.
CREATE TABLE IF NOT EXISTS "session_locks" ("session_key" varchar(40) NOT NULL PRIMARY KEY, "token" varchar(64) NOT NULL, "expires_at" bigint NOT NULL);
