-- Run once by the postgis/postgis image on a new volume (infra/compose.yaml), as its superuser postgres, after its
-- own script has added PostGIS to database grid. Mirrors infra/stack.sh: the owner role grid_owner (owns the
-- databases and tables, runs migrations; its password from GRID_DATABASE_OWNER_PASSWORD), the application role
-- grid (owns nothing; migration 0008 grants its rights), and a PostGIS template that tests clone with
-- CREATE DATABASE ... TEMPLATE grid_template.
\getenv owner_password GRID_DATABASE_OWNER_PASSWORD
CREATE ROLE grid_owner LOGIN CREATEDB PASSWORD :'owner_password';
GRANT pg_signal_backend TO grid_owner;
CREATE ROLE grid LOGIN PASSWORD 'grid';
ALTER DATABASE grid OWNER TO grid_owner;
CREATE DATABASE grid_template OWNER grid_owner;
\c grid_template
CREATE EXTENSION IF NOT EXISTS postgis;
ALTER DATABASE grid_template IS_TEMPLATE true;
