-- Runs once, when a party's PostgreSQL volume is first initialised (/docker-entrypoint-initdb.d).
-- The superuser (temporal) belongs to Temporal: its auto-setup creates the temporal and
-- temporal_visibility databases itself. Accord gets a role and a database of its own.
CREATE ROLE accord LOGIN PASSWORD 'accord';
CREATE DATABASE accord OWNER accord;
