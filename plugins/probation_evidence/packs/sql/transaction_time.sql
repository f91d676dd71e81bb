-- The publication time: the start of the recording transaction.
select now() as published_at
