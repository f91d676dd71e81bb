select pg_advisory_unlock(hashtext(%s)) as unlocked
