"""The planners' questions: the named, parameterised queries in `sql/queries/`, parsed, run and formatted."""
