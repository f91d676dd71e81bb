"""Sources: what providers' systems send and how it reaches the warehouse's `raw` schema. Connectors (REST
APIs and file drops), the contracts every record is checked against, the Parquet landing zone, validation
and quarantine, loading by COPY (binary where faster), the submission register and the lineage of each step.
"""
