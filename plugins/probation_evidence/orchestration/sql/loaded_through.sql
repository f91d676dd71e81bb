-- The load audit's latest load.
select max(loaded_at) as loaded_through from audit.load_batches
