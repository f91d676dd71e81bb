select from pg_roles
where rolname = %s
