-- The transaction's start time: every row of one load carries the same loaded_at.
select now() as loaded_at
