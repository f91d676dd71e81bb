-- What the last passed build was built from (null after a failed build).
select built_from from audit.marts_state
