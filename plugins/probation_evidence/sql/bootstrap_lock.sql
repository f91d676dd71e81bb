select pg_advisory_xact_lock(hashtext('probation_evidence.bootstrap')) as bootstrap_lock
