-- Run once by the postgis/postgis image on a new volume (infra/compose.yaml), after its own
-- script has added PostGIS to database grid. Mirrors infra/stack.sh: a PostGIS template
-- that tests clone with CREATE DATABASE ... TEMPLATE grid_template.
CREATE DATABASE grid_template;
\c grid_template
CREATE EXTENSION IF NOT EXISTS postgis;
ALTER DATABASE grid_template IS_TEMPLATE true;
