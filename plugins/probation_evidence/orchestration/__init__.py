"""The parse-time layer: what DAG files import while Airflow parses them (Assets, defaults, alert callbacks, the
DAG factories, connections, the transform's build plan). Its modules import only the standard library, Airflow,
Cosmos, `settings`, `warehouse` (standard library only: URLs and `read_sql`) and each other at module level; a task
reaches the other stages, and psycopg, by importing them inside its body, at run time.
"""
