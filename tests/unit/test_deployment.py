# Over 450 lines: every check of the compose file, the image and .env.example, which share one parsed model.
"""The production-shaped deployment, checked without a Docker engine.

docker-compose.yml, docker/airflow.Dockerfile, .env.example and .dockerignore are read as data: the YAML is
parsed (anchors and merge keys resolved, as compose does) and `${VAR}` references are interpolated the way
compose does, from .env.example. Commands the containers run are parsed by the project's own argparse
parsers, and the Airflow commands are looked up in the installed Airflow's CLI definition. When the
`docker compose` plugin is installed, `docker compose config` validates the file as well; the structural
tests are the real check either way.
"""

from __future__ import annotations

import ast
import importlib.metadata
import importlib.util
import json
import re
import shlex
import tomllib
from functools import cache
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlsplit

import pytest
import yaml
from packaging.specifiers import SpecifierSet

from probation_evidence import cli, settings
from probation_evidence.settings import api_conn_id
from probation_evidence.simulator import server
from probation_evidence.sources import lineage
from probation_evidence.sources.contracts import families, transport
from probation_evidence.warehouse import WarehouseUrl

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "docker" / "airflow.Dockerfile"
ENV_EXAMPLE = ROOT / ".env.example"
DOCKERIGNORE = ROOT / ".dockerignore"

AIRFLOW_DAEMONS = {
    "airflow-api-server": "api-server",
    "airflow-scheduler": "scheduler",
    "airflow-dag-processor": "dag-processor",
    "airflow-triggerer": "triggerer",
    "airflow-worker": "celery worker",
}
AIRFLOW_SERVICES = {*AIRFLOW_DAEMONS, "airflow-init"}
ONE_SHOT_SERVICES = {"airflow-init", "warehouse-bootstrap", "provider-drops"}
REQUIRED_SERVICES = {
    *AIRFLOW_SERVICES,
    *ONE_SHOT_SERVICES,
    "warehouse-db",
    "airflow-db",
    "redis",
    "provider-simulator",
}
# An exact release: postgres versions are MAJOR.MINOR, everything else MAJOR.MINOR.PATCH; a variant suffix
# (-python3.11, -bookworm) may follow.
EXACT_TAG = {"postgres": r"\d+\.\d+"}
DEFAULT_EXACT_TAG = r"\d+\.\d+\.\d+"
SECRET_NAME = re.compile(r"PASSWORD|SECRET|TOKEN|FERNET|(^|_)KEY$|(^|_)AUTH$")
# ${VAR} and ${VAR:?message}: a secret may be required, never given a default.
SECRET_REFERENCE = re.compile(r"\$\{[A-Za-z_]\w*(:?\?[^}]*)?\}")
SHELL_REFERENCE = re.compile(r"\$\$\{?[A-Za-z_]\w*\}?")
# Compose interpolation: $$ is a literal $; ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?err}, $VAR.
INTERPOLATION = re.compile(
    r"\$(?:(?P<escaped>\$)|\{(?P<braced>[A-Za-z_]\w*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}|(?P<named>[A-Za-z_]\w*))"
)


# ---------------------------------------------------------------------------------------------- loading
@cache
def compose() -> dict:
    return yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))


def services() -> dict[str, dict]:
    return compose()["services"]


@cache
def env_example() -> dict[str, str]:
    """The variables .env.example sets, in order; every one must have a comment line right above it."""
    variables, previous = {}, ""
    for number, line in enumerate(ENV_EXAMPLE.read_text(encoding="utf-8").splitlines(), start=1):
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            name, sep, value = stripped.partition("=")
            assert sep and re.fullmatch(r"[A-Za-z_]\w*", name), f".env.example:{number}: not NAME=value: {line!r}"
            assert name not in variables, f".env.example:{number}: {name} is set twice"
            assert previous.startswith("#"), f".env.example:{number}: {name} has no comment line above it"
            variables[name] = value
        previous = stripped
    return variables


def example_environment() -> dict[str, str]:
    """What `cp .env.example .env` gives, with the secrets (empty there) filled in as a user must."""
    return {name: value or f"test-{name.lower()}" for name, value in env_example().items()}


def interpolate(text: str, env: dict[str, str]) -> str:
    def replace(match: re.Match) -> str:
        if match["escaped"]:
            return "$"
        name = match["braced"] or match["named"]
        value, op, arg = env.get(name), match["op"], match["arg"]
        if op in {":?", "?"} and (value is None or (op == ":?" and not value)):
            raise AssertionError(f"compose would stop: {name} is not set ({arg})")
        if op == ":-" and not value or op == "-" and value is None:
            return arg
        return value or ""

    return INTERPOLATION.sub(replace, text)


def references(text: str) -> list[re.Match]:
    return [m for m in INTERPOLATION.finditer(text) if not m["escaped"]]


def strings(node, path: tuple = ()):
    """Every string in the parsed compose file (keys included), with where it is."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield from strings(key, (*path, "<key>"))
            yield from strings(value, (*path, str(key)))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from strings(value, (*path, str(index)))
    elif isinstance(node, str):
        yield path, node


def environment(name: str) -> dict[str, str]:
    """A service's environment after interpolation with the example settings."""
    env = services()[name].get("environment", {})
    assert isinstance(env, dict), f"{name}: write environment as a mapping"
    return {key: interpolate(str(value), example_environment()) for key, value in env.items()}


def argv(name: str, key: str) -> list[str]:
    value = services()[name].get(key, [])
    words = shlex.split(value) if isinstance(value, str) else [str(word) for word in value]
    return [interpolate(word, example_environment()) for word in words]


def healthcheck_command(name: str) -> str:
    test = services()[name]["healthcheck"]["test"]
    return test if isinstance(test, str) else " ".join(test[1:])


def image_pattern(image: str) -> str:
    repository = image.rsplit(":", 1)[0]
    version = EXACT_TAG.get(repository.rsplit("/", 1)[-1], DEFAULT_EXACT_TAG)
    return rf"{re.escape(repository)}:{version}(-[A-Za-z0-9.]+)?"


@cache
def lock_version(package: str) -> str:
    lock = tomllib.loads((ROOT / "uv.lock").read_text(encoding="utf-8"))
    versions = {p["version"] for p in lock["package"] if p["name"] == package}
    assert len(versions) == 1, f"uv.lock pins {package} at {sorted(versions) or 'no version'}"
    return versions.pop()


@cache
def dockerfile_instructions() -> list[tuple[str, list[str]]]:
    """The Dockerfile's instructions as (keyword, words): comments dropped, continued lines joined."""
    logical = re.sub(r"\\\n", " ", re.sub(r"^\s*#.*\n", "", DOCKERFILE.read_text(encoding="utf-8"), flags=re.M))
    return [(line.split()[0].upper(), line.split()[1:]) for line in logical.splitlines() if line.strip()]


def dockerfile_images() -> list[str]:
    return [words[0] for keyword, words in dockerfile_instructions() if keyword == "FROM"]


@cache
def airflow_cli() -> tuple[dict[str, set[str]], set[str]]:
    """The installed Airflow's core commands ({command: subcommands}) and its `jobs check --job-type` choices,
    read from its CLI definition (importing Airflow would take seconds)."""
    path = Path(importlib.metadata.distribution("apache-airflow-core").locate_file("airflow/cli/cli_config.py"))
    tree = ast.parse(path.read_text(encoding="utf-8"))
    assigned = {
        target.id: node.value
        for node in tree.body
        if isinstance(node, ast.Assign | ast.AnnAssign)
        for target in (node.targets if isinstance(node, ast.Assign) else [node.target])
        if isinstance(target, ast.Name)
    }

    def name_of(call: ast.Call) -> str:
        return next(ast.literal_eval(k.value) for k in call.keywords if k.arg == "name")

    commands = {}
    for call in assigned["core_commands"].elts:
        subcommands = next((k.value for k in call.keywords if k.arg == "subcommands"), None)
        group = assigned[subcommands.id].elts if isinstance(subcommands, ast.Name) else []
        commands[name_of(call)] = {name_of(sub) for sub in group}
    job_types = next(k.value for k in assigned["ARG_JOB_TYPE_FILTER"].keywords if k.arg == "choices")
    return commands, set(ast.literal_eval(job_types))


# ---------------------------------------------------------------------------------------------- services
def test_required_services_are_present():
    missing = REQUIRED_SERVICES - set(services())
    assert not missing, f"missing: {sorted(missing)}"


def test_one_shot_services_are_exactly_the_set_up_jobs():
    one_shot = {name for name, service in services().items() if service.get("restart") == "no"}
    assert one_shot == ONE_SHOT_SERVICES


def test_every_image_is_pinned_to_an_exact_version():
    images = {name: service["image"] for name, service in services().items()}
    images.update({f"{DOCKERFILE.name} FROM": image for image in dockerfile_images()})
    for where, image in images.items():
        assert ":" in image and "latest" not in image, f"{where}: {image} is not pinned"
        assert re.fullmatch(image_pattern(image), image), f"{where}: {image} is not an exact release"


def test_services_built_from_the_dockerfile_share_one_image():
    built = {name: service for name, service in services().items() if "build" in service}
    assert AIRFLOW_SERVICES | {"warehouse-bootstrap", "provider-simulator", "provider-drops"} <= set(built)
    for name, service in built.items():
        assert (ROOT / service["build"]["context"] / service["build"]["dockerfile"]).resolve() == DOCKERFILE, name
    assert len({service["image"] for service in built.values()}) == 1


def test_airflow_version_agrees_with_uv_lock():
    airflow = lock_version("apache-airflow")
    bases = [image for image in dockerfile_images() if image.startswith("apache/airflow:")]
    assert bases, "the Dockerfile is not built FROM apache/airflow"
    assert [image.split(":")[1].split("-")[0] for image in bases] == [airflow]
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]
    assert services()["airflow-scheduler"]["image"] == f"probation-evidence-airflow:{project}-airflow{airflow}"


def test_dockerfile_python_and_uv_match_the_project():
    airflow_image = next(image for image in dockerfile_images() if image.startswith("apache/airflow:"))
    python = re.fullmatch(r".*-python(\d+\.\d+)", airflow_image)
    assert python, f"{airflow_image} does not name its Python version"
    requires = tomllib.loads((ROOT / "uv.lock").read_text(encoding="utf-8"))["requires-python"]
    assert SpecifierSet(requires).contains(f"{python[1]}.0"), f"Python {python[1]} is outside {requires}"
    uv_image = next(image for image in dockerfile_images() if image.startswith("ghcr.io/astral-sh/uv:"))
    makefile_uv = re.search(r"^UV_VERSION\s*:?=\s*(\S+)", (ROOT / "Makefile").read_text(), flags=re.MULTILINE)
    assert makefile_uv and uv_image.split(":")[1] == makefile_uv[1], "the image's uv differs from the Makefile's"


def test_dockerfile_installs_the_locked_runtime_dependencies_and_the_project():
    runs = [" ".join(words) for keyword, words in dockerfile_instructions() if keyword == "RUN"]
    export = next((re.search(r"uv export ([^&;|]+)", run) for run in runs if "uv export" in run), None)
    assert export and {"--frozen", "--no-dev"} <= set(export[1].split()), "install exactly uv.lock, without dev"
    copied = {PurePosixPath(source).parts[0] for source in copy_sources()}
    assert {"pyproject.toml", "uv.lock", "dags", "plugins", "dbt_project", "sql"} <= copied
    parse = [run for run in runs if re.search(r"\bdbt parse\b.*--project-dir dbt_project", run)]
    assert parse, "the transform DAG is parsed from dbt_project/target/manifest.json: build it in the image"


def copy_sources() -> list[str]:
    """What the Dockerfile copies from the build context (not from other stages)."""
    sources = []
    for keyword, words in dockerfile_instructions():
        flags = [word for word in words if word.startswith("--")]
        if keyword == "COPY" and not any(flag.startswith("--from") for flag in flags):
            sources += [word for word in words if not word.startswith("--")][:-1]
    return sources


def dockerignore_regex(pattern: str) -> re.Pattern:
    """A .dockerignore pattern as a regex over a path from the context's root: `**` spans folders, `*` not."""
    parts = re.split(r"(\*\*/|\*\*|\*|\?)", pattern.strip("/"))
    wildcards = {"**/": "(?:.*/)?", "**": ".*", "*": "[^/]*", "?": "[^/]"}
    return re.compile("".join(wildcards.get(part, re.escape(part)) for part in parts))


def dockerignored(path: str, patterns: list[str]) -> bool:
    """Docker's rule: the last pattern matching the path or one of its parent folders decides."""
    parts = PurePosixPath(path).parts
    candidates = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    ignored = False
    for pattern in patterns:
        regex = dockerignore_regex(pattern.removeprefix("!"))
        if any(regex.fullmatch(candidate) for candidate in candidates):
            ignored = not pattern.startswith("!")
    return ignored


def test_build_context_sends_what_the_dockerfile_copies_and_no_secrets():
    patterns = [line.strip() for line in DOCKERIGNORE.read_text().splitlines() if line.strip()[:1] not in {"", "#"}]
    for source in copy_sources():
        assert not dockerignored(source.rstrip("/"), patterns), f"{source} is copied but left out of the context"
    for private in (".env", ".venv/bin/python", ".state/warehouse", "data/drops/x.csv", "output/packs/a.html"):
        assert dockerignored(private, patterns), f"{private} would be sent to the builder"
    assert dockerignored("dbt_project/target/manifest.json", patterns), "the image must parse its own manifest"


# ---------------------------------------------------------------------------------------------- health
def test_every_long_running_service_has_a_healthcheck_and_restarts():
    for name, service in services().items():
        if name in ONE_SHOT_SERVICES:
            continue
        check = service.get("healthcheck")
        assert check, f"{name} has no healthcheck"
        assert isinstance(check.get("test"), list) and check["test"][0] in {"CMD", "CMD-SHELL"}, name
        assert check.get("interval") and check.get("timeout"), f"{name}: healthcheck needs interval and timeout"
        assert isinstance(check.get("retries"), int) and check["retries"] >= 1, f"{name}: healthcheck retries"
        assert service.get("restart") in {"always", "unless-stopped"}, f"{name} is not restarted"


def test_depends_on_waits_for_health_or_completion():
    for name, service in services().items():
        depends_on = service.get("depends_on", {})
        assert isinstance(depends_on, dict), f"{name}: depends_on needs conditions"
        for target, rule in depends_on.items():
            assert target in services(), f"{name} depends on unknown {target}"
            expected = "service_completed_successfully" if target in ONE_SHOT_SERVICES else "service_healthy"
            assert rule.get("condition") == expected, f"{name} -> {target} must use {expected}"


def test_airflow_services_start_after_their_databases_and_set_up():
    for name in AIRFLOW_DAEMONS:
        assert {"airflow-db", "redis", "airflow-init"} <= set(services()[name]["depends_on"]), name
    assert "airflow-db" in services()["airflow-init"]["depends_on"]
    assert {"airflow-api-server", "warehouse-bootstrap"} <= set(services()["airflow-worker"]["depends_on"])
    assert "warehouse-db" in services()["warehouse-bootstrap"]["depends_on"]


def test_healthchecks_probe_each_component_its_own_way():
    assert "/api/v2/monitor/health" in healthcheck_command("airflow-api-server")
    assert ":8974/health" in healthcheck_command("airflow-scheduler")
    assert environment("airflow-scheduler")["AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK"] == "true"
    assert "inspect ping" in healthcheck_command("airflow-worker")
    _, job_types = airflow_cli()
    for name, job_type in {"airflow-dag-processor": "DagProcessorJob", "airflow-triggerer": "TriggererJob"}.items():
        check = healthcheck_command(name)
        assert f"--job-type {job_type}" in check and job_type in job_types, f"{name}: {check}"
    port = server_arguments().port
    assert f"localhost:{port}/health" in healthcheck_command("provider-simulator")


# ---------------------------------------------------------------------------------------------- Airflow
def test_airflow_runs_the_celery_executor_with_a_redis_broker():
    for name in AIRFLOW_SERVICES:
        env = environment(name)
        assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor", name
        broker = urlsplit(env["AIRFLOW__CELERY__BROKER_URL"])
        assert (broker.scheme, broker.hostname) == ("redis", "redis"), name
        assert broker.password == example_environment()["REDIS_PASSWORD"], f"{name}: broker without Redis's password"
        for key in ("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", "AIRFLOW__CELERY__RESULT_BACKEND"):
            url = urlsplit(env[key])
            assert url.scheme.startswith(("postgresql", "db+postgresql")) and url.hostname == "airflow-db", key
            assert url.path.lstrip("/") == environment("airflow-db")["POSTGRES_DB"], key
    assert services()["airflow-worker"]["command"] == "celery worker"
    assert "redis-server" in argv("redis", "command")


def test_airflow_components_share_their_secrets():
    shared = ("AIRFLOW__CORE__FERNET_KEY", "AIRFLOW__API_AUTH__JWT_SECRET", "AIRFLOW__API__SECRET_KEY")
    values = {name: tuple(environment(name).get(key) for key in shared) for name in AIRFLOW_SERVICES}
    assert len(set(values.values())) == 1 and None not in next(iter(values.values())), values
    assert environment("airflow-worker")["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"].startswith(
        "http://airflow-api-server:8080/"
    )


def test_airflow_commands_exist_in_the_airflow_cli():
    commands, _ = airflow_cli()
    for name, command in AIRFLOW_DAEMONS.items():
        words = argv(name, "command")
        assert " ".join(words) == command, name
        if words[0] != "celery":  # the celery command group comes with the celery provider, in the image
            assert words[0] in commands and not commands[words[0]], f"{name}: airflow has no {words[0]} command"
    script = " ".join(argv("airflow-init", "command"))
    used = re.findall(r"\bairflow ([a-z-]+) ([a-z-]+)", script)
    assert ("db", "migrate") in used and ("users", "create") in used, script
    for group, sub in used:
        if group == "users":  # FAB's auth manager adds the users commands
            assert environment("airflow-init")["AIRFLOW__CORE__AUTH_MANAGER"].endswith(".FabAuthManager")
        else:
            assert sub in commands.get(group, set()), f"airflow has no `{group} {sub}` command"


# ---------------------------------------------------------------------------------------------- pipeline
def test_bootstrap_runs_the_project_cli_against_the_warehouse_server():
    words = argv("warehouse-bootstrap", "entrypoint") + argv("warehouse-bootstrap", "command")
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts.get(words[0]) == "probation_evidence.cli:main", f"{words[0]} is not the project's command"
    try:
        args = cli.build_parser().parse_args(words[1:])
    except SystemExit:
        pytest.fail(f"`{' '.join(words)}` is not a valid probation-evidence command")
    assert (args.func, args.action) == (cli._warehouse, "bootstrap")
    bootstrap = WarehouseUrl.parse(environment("warehouse-bootstrap")["WAREHOUSE_URL"])
    pipeline = WarehouseUrl.parse(warehouse_url())
    assert (bootstrap.host, bootstrap.port, bootstrap.dbname) == (pipeline.host, pipeline.port, pipeline.dbname)
    assert bootstrap.host == "warehouse-db"
    # The bootstrap runs as the server's superuser and makes the workers' login a least-privilege one.
    server = environment("warehouse-db")
    assert (bootstrap.user, bootstrap.password) == (server["POSTGRES_USER"], server["POSTGRES_PASSWORD"])
    assert pipeline.user != server["POSTGRES_USER"], "the pipeline must not log in as the superuser"
    assert args.pipeline_login == pipeline.user
    assert environment("warehouse-bootstrap")[settings.PIPELINE_PASSWORD_ENV] == pipeline.password


def warehouse_url() -> str:
    return environment("airflow-worker")["WAREHOUSE_URL"]


def test_the_warehouse_connection_and_url_name_the_warehouse_database():
    server = environment("warehouse-db")
    url = WarehouseUrl.parse(warehouse_url())
    example = example_environment()
    # The pipeline's own login (made by the bootstrap), on the warehouse server's database.
    expected = ("warehouse-db", 5432, example["WAREHOUSE_USER"], example["WAREHOUSE_PASSWORD"], server["POSTGRES_DB"])
    assert (url.host, url.port, url.user, url.password, url.dbname) == expected
    conn = urlsplit(environment("airflow-worker")["AIRFLOW_CONN_WAREHOUSE"])
    assert conn.scheme == "postgres" and (conn.hostname, conn.port, conn.username) == expected[:3]
    assert (unquote(conn.password or ""), conn.path.lstrip("/")) == expected[3:]


def server_arguments():
    words = argv("provider-simulator", "entrypoint") + argv("provider-simulator", "command")
    assert words[:3] == ["python", "-m", "probation_evidence.simulator"], words
    assert importlib.util.find_spec("probation_evidence.simulator.__main__"), "the simulator has no __main__"
    try:
        return server._parser().parse_args(words[3:])
    except SystemExit:
        pytest.fail(f"`{' '.join(words)}` is not a valid simulator command")


def test_simulator_serves_where_the_api_connections_point():
    args = server_arguments()
    # Inside its container the simulator must listen on the compose network, not on loopback.
    assert (args.command, args.host) == ("serve", "0.0.0.0")  # noqa: S104
    assert (
        args.token_file is None
        and environment("provider-simulator")[server.TOKEN_ENV] == (example_environment()["SIMULATOR_TOKEN"])
    ), "the simulator reads its token from SIMULATOR_TOKEN"

    api_families = [family for family in families() if transport(family) == "api"]
    assert api_families
    for family in api_families:
        key = f"AIRFLOW_CONN_{api_conn_id(family).upper()}"
        conn = json.loads(environment("airflow-worker")[key])
        assert (conn["conn_type"], conn["host"], conn["port"]) == ("http", "provider-simulator", args.port), key
        assert conn["password"] == example_environment()["SIMULATOR_TOKEN"], key


def test_simulated_file_drops_land_where_the_workers_read_them():
    words = argv("provider-drops", "entrypoint") + argv("provider-drops", "command")
    assert words[:3] == ["python", "-m", "probation_evidence.simulator"]
    try:
        args = server._parser().parse_args(words[3:])
    except SystemExit:
        pytest.fail(f"`{' '.join(words)}` is not a valid simulator command")
    assert args.command == "write-drops"
    assert str(args.root) == environment("airflow-worker")["DROPS_DIR"]
    assert volume_for("provider-drops", str(args.root)) == volume_for("airflow-worker", str(args.root))


def volume_for(name: str, target: str) -> str | None:
    for mount in services()[name].get("volumes", []):
        source, _, rest = mount.partition(":")
        if rest.split(":")[0] == target:
            return source
    return None


def test_pipeline_folders_and_databases_live_on_named_volumes():
    named = set(compose()["volumes"])
    for key in ("LANDING_DIR", "DROPS_DIR", "PACKS_DIR"):
        folder = environment("airflow-worker")[key]
        for name in AIRFLOW_SERVICES:
            assert volume_for(name, folder) in named, f"{name}: {key}={folder} is not on a named volume"
    for name in ("warehouse-db", "airflow-db"):
        major = int(services()[name]["image"].split(":")[1].split(".")[0])
        # PostgreSQL 18+ images keep data in /var/lib/postgresql/<major>/docker; older ones in .../data.
        data = "/var/lib/postgresql" if major >= 18 else "/var/lib/postgresql/data"
        assert volume_for(name, data) in named, f"{name}: data is not on a named volume at {data}"
    assert volume_for("warehouse-db", "/var/lib/postgresql") != volume_for("airflow-db", "/var/lib/postgresql")


# ---------------------------------------------------------------------------------------------- settings
def test_no_password_or_secret_is_written_in_the_compose_file():
    for path, text in strings(compose()):
        where = "/".join(path)
        if path[-2:-1] == ("environment",) and SECRET_NAME.search(path[-1]):
            assert SECRET_REFERENCE.fullmatch(text), f"{where}: a secret must be a ${{VAR}} reference: {text!r}"
        for password in re.findall(r"://[^/@\s:]*:([^@\s]*)@", text):
            assert SECRET_REFERENCE.fullmatch(password), f"{where}: password in a URL: {password!r}"
        for password in re.findall(r'"password"\s*:\s*"([^"]*)"', text):
            assert SECRET_REFERENCE.fullmatch(password), f"{where}: password in JSON: {password!r}"
        # In a shell script, a password comes from the container's environment ($${VAR}), not from compose.
        for password in re.findall(r"--(?:password|requirepass)[\s=]+\"?([^\s\"]+)", text):
            assert SHELL_REFERENCE.fullmatch(password), f"{where}: password on a command line: {password!r}"
    for name, service in services().items():
        words = [str(word) for word in service.get("command", [])] if isinstance(service.get("command"), list) else []
        for flag, value in zip(words, words[1:], strict=False):
            if flag in {"--password", "--requirepass"}:
                assert SECRET_REFERENCE.fullmatch(value), f"{name}: {flag} {value!r}"


def test_every_variable_the_compose_file_reads_is_documented_in_env_example():
    used = {match["braced"] or match["named"] for _, text in strings(compose()) for match in references(text)}
    documented = env_example()
    assert set(used) - set(documented) == set(), "not in .env.example"
    assert set(documented) - set(used) == set(), "in .env.example but unused by docker-compose.yml"


def test_env_example_holds_no_secret_and_the_compose_defaults():
    secrets = {name for name in env_example() if SECRET_NAME.search(name)}
    assert secrets, "no secret found in .env.example"
    for name in secrets:
        assert env_example()[name] == "", f".env.example must leave {name} empty, not hold a value"
    for _, text in strings(compose()):
        for match in references(text):
            name = match["braced"] or match["named"]
            if name in secrets:
                assert match["op"] in {None, ":?"}, f"secret {name} must not have a default"
            if match["op"] in {":-", "-"}:
                assert env_example()[name] == match["arg"], f"{name}: .env.example and compose's default differ"


# ---------------------------------------------------------------------------------------------- secrets
#: What every Airflow component needs: the metadata database, the broker and the keys they share.
AIRFLOW_SECRETS = {
    "METADATA_DB_PASSWORD", "REDIS_PASSWORD", "AIRFLOW_FERNET_KEY", "AIRFLOW_JWT_SECRET", "AIRFLOW_API_SECRET_KEY",
}  # fmt: skip
#: The secrets of .env each service may receive, and no others. The warehouse superuser's password goes to
#: the warehouse and its one-shot bootstrap only, the Airflow admin's to airflow-init only; the pipeline's
#: warehouse and provider API credentials to the workers only (tasks resolve connections there).
SECRETS_BY_SERVICE = {
    "warehouse-db": {"WAREHOUSE_ADMIN_PASSWORD"},
    "airflow-db": {"METADATA_DB_PASSWORD"},
    "redis": {"REDIS_PASSWORD"},
    "warehouse-bootstrap": {"WAREHOUSE_ADMIN_PASSWORD", "WAREHOUSE_PASSWORD"},
    "provider-simulator": {"SIMULATOR_TOKEN"},
    "provider-drops": set(),
    "airflow-init": AIRFLOW_SECRETS | {"AIRFLOW_ADMIN_PASSWORD"},
    "airflow-api-server": AIRFLOW_SECRETS,
    "airflow-scheduler": AIRFLOW_SECRETS,
    "airflow-dag-processor": AIRFLOW_SECRETS | {"ALERT_WEBHOOK_TOKEN"},
    "airflow-triggerer": AIRFLOW_SECRETS | {"ALERT_WEBHOOK_TOKEN"},
    "airflow-worker": AIRFLOW_SECRETS | {"WAREHOUSE_PASSWORD", "SIMULATOR_TOKEN", "ALERT_WEBHOOK_TOKEN"},
}


def secrets_reaching(name: str) -> set[str]:
    """The secrets of .env a service receives: those its definition names (environment, command, ...), and
    every one of them if it reads an env_file, which compose passes to the container whole."""
    secrets = {variable for variable in env_example() if SECRET_NAME.search(variable)}
    service = services()[name]
    if service.get("env_file"):
        return secrets
    named = {match["braced"] or match["named"] for _, text in strings(service) for match in references(text)}
    return named & secrets


def test_every_service_gets_only_the_secrets_it_needs():
    assert set(SECRETS_BY_SERVICE) == set(services()), "a service without a reviewed list of secrets"
    for name, allowed in SECRETS_BY_SERVICE.items():
        extra = secrets_reaching(name) - allowed
        assert not extra, f"{name} receives secrets it does not need: {sorted(extra)}"


def test_no_superuser_or_admin_password_reaches_workers_or_schedulers():
    for name in ("airflow-worker", "airflow-scheduler", "airflow-dag-processor", "airflow-triggerer"):
        leaked = secrets_reaching(name) & {"WAREHOUSE_ADMIN_PASSWORD", "AIRFLOW_ADMIN_PASSWORD"}
        assert not leaked, f"{name}: {sorted(leaked)}"
        env_files = services()[name].get("env_file")
        assert not env_files, f"{name} reads {env_files} whole: every secret in it reaches the container"


def test_only_the_workers_hold_the_pipeline_connections():
    for name in AIRFLOW_SERVICES:
        held = {key for key in environment(name) if key.startswith("AIRFLOW_CONN_") or key == "WAREHOUSE_URL"}
        if name == "airflow-worker":
            assert {"AIRFLOW_CONN_WAREHOUSE", "WAREHOUSE_URL"} <= held, name
        else:
            assert not held, f"{name} holds pipeline credentials: {sorted(held)}"


def test_pipeline_settings_in_env_example_are_the_code_defaults(monkeypatch):
    readers = {
        "PACK_LEAD_DAYS": settings.lead_days,
        "SIMULATOR_SEED": settings.simulator_seed,
        "TASK_EXECUTION_TIMEOUT_SECONDS": settings.task_execution_timeout_seconds,
        "WAREHOUSE_CONNECT_TIMEOUT_SECONDS": settings.warehouse_connect_timeout_seconds,
        "WAREHOUSE_STATEMENT_TIMEOUT_SECONDS": settings.warehouse_statement_timeout_seconds,
        "WAREHOUSE_LOCK_TIMEOUT_SECONDS": settings.warehouse_lock_timeout_seconds,
        "API_ENTITY_DEADLINE_SECONDS": settings.api_entity_deadline_seconds,
        "API_MAX_PAGES": settings.api_max_pages,
        "API_MAX_RESPONSE_BYTES": settings.api_max_response_bytes,
        "DROP_SETTLE_SECONDS": settings.drop_settle_seconds,
        "DROP_MAX_BYTES": settings.drop_max_bytes,
        "DROP_MAX_UNCOMPRESSED_BYTES": settings.drop_max_uncompressed_bytes,
        "PACK_DEADLINE_DAYS": settings.pack_deadline_days,
        "PACK_APPROVAL_TIMEOUT_HOURS": settings.pack_approval_timeout_hours,
        "ALERT_WEBHOOK_TIMEOUT_SECONDS": settings.alert_webhook_timeout_seconds,
    }
    for variable, read in readers.items():
        monkeypatch.delenv(variable, raising=False)
        assert float(env_example()[variable]) == read(), f"{variable}: .env.example and settings.py differ"


def test_every_airflow_daemon_registers_the_projects_lineage_extractors():
    """The compose file cannot import the list, so it repeats it: it must stay the one the local runs use,
    or a deployment's dbt lineage loses its physical source names or its per-model edges."""

    for name in AIRFLOW_DAEMONS:
        assert environment(name).get("AIRFLOW__OPENLINEAGE__EXTRACTORS") == lineage.EXTRACTORS, name
