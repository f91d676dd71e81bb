-- A lock on a text key, held to the end of the caller's transaction.
select pg_advisory_xact_lock(hashtext(%s)) as lock_taken
