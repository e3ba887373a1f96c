#!/bin/sh
# Least-privilege database roles (docs/security.md), run by the postgres image when it first
# initialises its volume (docker-compose.yml mounts this file into /docker-entrypoint-initdb.d).
# POSTGRES_USER stays the administrator, which no service logs in as:
#   RASA_DB_USER     owns the tracker database and the tables Rasa creates in it (`events`);
#                    not a superuser, cannot create databases or roles.
#   CONSOLE_DB_USER  the staff console and the retention service: may connect, read `events`
#                    and delete from it (retention, `console forget`); nothing else. Its own
#                    tables (corrections, annotations, accounts) live in its SQLite state file.
# Safe to run again (an existing deployment: docs/operations.md), e.g. to change a password;
# tables an earlier set-up created as the administrator are handed to the Rasa role.
# psql takes its connection from the environment (PGHOST, PGPORT), as in the image's init.
set -eu
: "${POSTGRES_USER:?}" "${POSTGRES_DB:?}"
: "${RASA_DB_USER:?}" "${RASA_DB_PASSWORD:?}" "${CONSOLE_DB_USER:?}" "${CONSOLE_DB_PASSWORD:?}"
# A password left at .env.example's placeholder stops the database's first start (bot/preflight.py
# refuses it for Rasa; this catches the administrator's and the console's too).
for name in POSTGRES_PASSWORD RASA_DB_PASSWORD CONSOLE_DB_PASSWORD; do
  eval "value=\${$name:-}"
  case $(printf '%s' "$value" | tr '[:upper:]' '[:lower:]' | tr -d '[:space:]') in
    change-me|changeme)
      echo "postgres-roles: error: $name is still the placeholder of .env.example" >&2
      exit 1 ;;
  esac
done

# The passwords reach psql through its environment (\getenv, psql 15+), not its arguments,
# which any process on the host may read while the script runs.
export RASA_DB_PASSWORD CONSOLE_DB_PASSWORD
psql -X -q -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
  -v db="$POSTGRES_DB" -v rasa_user="$RASA_DB_USER" -v console_user="$CONSOLE_DB_USER" <<'SQL'
\getenv rasa_password RASA_DB_PASSWORD
\getenv console_password CONSOLE_DB_PASSWORD
SELECT format('CREATE ROLE %I', name) FROM (VALUES (:'rasa_user'), (:'console_user')) AS r(name)
  WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = name) \gexec
ALTER ROLE :"rasa_user" WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS
  PASSWORD :'rasa_password';
ALTER ROLE :"console_user" WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION
  NOBYPASSRLS PASSWORD :'console_password';

-- Rasa: the tracker database is its own; nobody else may connect except the console.
ALTER DATABASE :"db" OWNER TO :"rasa_user";
REVOKE ALL ON DATABASE :"db" FROM PUBLIC;
GRANT CONNECT ON DATABASE :"db" TO :"console_user";
REVOKE ALL ON SCHEMA public FROM PUBLIC;
GRANT USAGE, CREATE ON SCHEMA public TO :"rasa_user";
SELECT format('ALTER TABLE public.%I OWNER TO %I', tablename, :'rasa_user') FROM pg_tables
  WHERE schemaname = 'public' AND tableowner <> :'rasa_user' \gexec
SELECT format('ALTER SEQUENCE public.%I OWNER TO %I', sequencename, :'rasa_user') FROM pg_sequences
  WHERE schemaname = 'public' AND sequenceowner <> :'rasa_user' \gexec

-- The console: read and delete conversations, on the tables Rasa has made and will make.
GRANT USAGE ON SCHEMA public TO :"console_user";
ALTER DEFAULT PRIVILEGES FOR ROLE :"rasa_user" IN SCHEMA public
  GRANT SELECT, DELETE ON TABLES TO :"console_user";
GRANT SELECT, DELETE ON ALL TABLES IN SCHEMA public TO :"console_user";
SQL
echo "postgres-roles: $RASA_DB_USER owns $POSTGRES_DB; $CONSOLE_DB_USER reads and deletes events"
