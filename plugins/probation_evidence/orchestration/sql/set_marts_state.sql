-- The marts' state in its one row. What they were built from is kept while building, replaced by
-- 'passed' (the new build's inputs) and cleared by 'failed'.
insert into audit.marts_state (singleton, status, detail, built_from)
values (true, %s, %s, %s)
on conflict (singleton) do update set
    status = excluded.status,
    detail = excluded.detail,
    built_from = case excluded.status
        when 'building' then marts_state.built_from
        else excluded.built_from
    end
