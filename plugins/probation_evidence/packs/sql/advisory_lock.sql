select pg_advisory_lock(hashtext(%s)) as lock_taken
