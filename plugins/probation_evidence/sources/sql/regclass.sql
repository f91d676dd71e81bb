-- The relation of a qualified name, or null when it does not exist.
select to_regclass(%s) as relation
