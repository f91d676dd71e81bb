"""Names that frameworks and libraries call or read by name, so vulture sees no caller in our code.

Each line names the attribute as `_.<name>` (vulture counts any use of the name); the comment says who uses
it. Only framework-called names belong here: code nobody calls is deleted, not listed.
"""

# ruff: noqa: B018, F821

# http.server: the request handlers and server options of the simulator and the tests' fake services.
_.do_GET
_.do_POST
_.log_message
_.protocol_version
_.daemon_threads

# html.parser.HTMLParser callbacks (tests read rendered packs with it).
_.handle_starttag
_.handle_endtag

# xml.parsers.expat callbacks, set on the parser (file drops).
_.StartElementHandler
_.EndElementHandler
_.CharacterDataHandler

# zipfile.ZipInfo fields read by ZipFile.writestr (simulated XLSX drops).
_.compress_type
_.creator


# pytest: module marks, and fixtures requested by parameter name for their side effects.
pytestmark
sample_tables
short_limits
transform_paused

# Airflow: plugin attributes (ui/__init__.py), BaseNotifier.notify, and task attributes read by the scheduler.
_.fastapi_apps
_.external_views
_.notify
_.retry_exponential_backoff
_.on_retry_callback

# OpenLineage: extractors are named in the Airflow config by dotted path; it calls get_operator_classnames.
DbtSourceTablesExtractor
DbtWatcherNodeExtractor
_.get_operator_classnames

# Cosmos profile mappings: `transform_<field>` methods are looked up by the profile field's name.
_.transform_connect_timeout
_.transform_keepalives_idle

# psycopg's QueuedLibpqWriter reads the queue its subclass (sources/pgbinary.py) replaces with a bounded one.
_._queue

# Jinja: the pack template (packs/templates/pack.html.j2) reads this field of the pack's context by name.
_.fieldwork_end_date
