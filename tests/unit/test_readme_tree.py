"""The README's "What is where" tree is a map readers trust: every path it names exists, and it names every
top-level folder and every package folder of the Python package. A moved module or a new package folder fails
here instead of leaving the map quietly wrong. The checks are pure functions of the tree text and a root, so
each is also shown to fail on a tree that is wrong."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = Path("plugins") / "probation_evidence"
#: The description column: a path entry ends where two or more spaces begin.
SPLIT = re.compile(r" {2,}")
PLACEHOLDER = re.compile(r"<[^>]+>")
RAW_TABLES = re.compile(r"\((\d+) raw tables from")


def tree_block(readme: str) -> str:
    """The fenced block under the `## What is where` heading."""
    section = readme.split("## What is where", 1)[1]
    return section.split("```", 2)[1]


def tree_paths(block: str) -> list[str]:
    """Every path the tree names, relative to the repository root.

    A line whose text starts in the first column, or two spaces deeper per level, names one or more paths
    (comma-separated) before its description; a name ending in `/` is a folder and the parent of the deeper
    lines that follow it. Lines that start in the description column continue the previous description.
    """
    paths: list[str] = []
    parents: list[tuple[int, str]] = []  # (indent, folder path) of the open folders
    description_column = None
    for line in block.splitlines():
        if not line.strip():
            continue
        indent = len(line) - len(line.lstrip(" "))
        head = SPLIT.split(line.strip(), 1)
        if description_column is None and len(head) == 2:
            description_column = line.index(head[1], indent + len(head[0]))
        if description_column is not None and indent >= description_column:
            continue  # a description's next line
        while parents and parents[-1][0] >= indent:
            parents.pop()
        base = parents[-1][1] if parents else ""
        for name in (part.strip() for part in head[0].split(",")):
            path = base + name
            paths.append(path)
            if name.endswith("/"):
                parents.append((indent, path))
    return paths


def missing_paths(paths: list[str], root: Path) -> list[str]:
    """The named paths with nothing at them (`<family>` stands for any name)."""
    return [
        path
        for path in paths
        if not any(root.glob(PLACEHOLDER.sub("*", path.rstrip("/")))) and not (root / path).exists()
    ]


def ignored_names(root: Path) -> set[str]:
    """Top-level names .gitignore keeps out of the repository (`data/`, `output/`, ...)."""
    gitignore = root / ".gitignore"
    lines = gitignore.read_text(encoding="utf-8").splitlines() if gitignore.exists() else []
    return {
        line.strip().strip("/")
        for line in lines
        if line.strip() and not line.startswith("#") and "/" not in line.strip().strip("/") and "*" not in line
    }


def folders_to_name(root: Path) -> set[str]:
    """Every top-level folder of the repository (hidden tool folders such as .git and .venv aside, and those
    .gitignore excludes) and every package folder (a folder with an `__init__.py`) of the Python package."""
    ignored = ignored_names(root)
    top = {
        f"{path.name}/"
        for path in root.iterdir()
        if path.is_dir()
        and path.name not in ignored
        and path.name not in {".git", ".venv", ".state"}
        and not path.name.endswith("_cache")
    }
    packages = {
        f"{init.parent.relative_to(root).as_posix()}/"
        for init in (root / PACKAGE).rglob("__init__.py")
        if init.parent != root / PACKAGE
    }
    return top | packages


def unnamed_folders(paths: list[str], root: Path) -> list[str]:
    named = {path for path in paths if path.endswith("/")}
    # `.ci/run` names the folder it is in.
    named |= {path.rsplit("/", 1)[0] + "/" for path in paths if "/" in path.rstrip("/")}
    return sorted(folders_to_name(root) - named)


def stated_raw_tables(readme: str) -> int:
    match = RAW_TABLES.search(tree_block(readme))
    assert match, "the tree states how many raw tables the staging models read: '(N raw tables from'"
    return int(match.group(1))


def raw_tables(root: Path) -> int:
    """The tables of every dbt source in the `raw` schema."""
    total = 0
    for file in (root / "dbt_project" / "models").rglob("_*__sources.yml"):
        for source in yaml.safe_load(file.read_text(encoding="utf-8"))["sources"]:
            if source.get("schema") == "raw":
                total += len(source.get("tables", []))
    return total


def readme() -> str:
    return (ROOT / "README.md").read_text(encoding="utf-8")


def test_every_path_the_tree_names_exists():
    paths = tree_paths(tree_block(readme()))
    assert len(paths) > 30, "the tree was read"
    assert not missing_paths(paths, ROOT)


def test_the_tree_names_every_top_level_folder_and_package_folder():
    assert not unnamed_folders(tree_paths(tree_block(readme())), ROOT)


def test_the_stated_number_of_raw_tables_is_the_dbt_sources():
    assert stated_raw_tables(readme()) == raw_tables(ROOT)


def test_the_checks_bite(tmp_path):
    """A fabricated repository and trees that are wrong both ways."""
    for folder in ("dags", "docs", "plugins/probation_evidence/sources/contracts", "output"):
        (tmp_path / folder).mkdir(parents=True)
    for package in ("plugins/probation_evidence", "plugins/probation_evidence/sources",
                    "plugins/probation_evidence/sources/contracts"):  # fmt: skip
        (tmp_path / package / "__init__.py").touch()
    (tmp_path / "dags" / "ingest_staffing.py").touch()
    (tmp_path / ".gitignore").write_text("output/\n", encoding="utf-8")

    good = """
dags/                  DAGs
  ingest_<family>.py   one per family
plugins/
  probation_evidence/  the package
    sources/           to raw, with a description
                       that goes on
      contracts/       contracts
docs/                  pages
"""
    assert tree_paths(good) == [
        "dags/", "dags/ingest_<family>.py", "plugins/", "plugins/probation_evidence/",
        "plugins/probation_evidence/sources/", "plugins/probation_evidence/sources/contracts/", "docs/",
    ]  # fmt: skip
    assert not missing_paths(tree_paths(good), tmp_path)
    assert not unnamed_folders(tree_paths(good), tmp_path)

    extra = good + "  landing.py           a module that moved away\n"
    assert missing_paths(tree_paths(extra), tmp_path) == ["docs/landing.py"]
    without_contracts = good.replace("      contracts/       contracts\n", "")
    assert unnamed_folders(tree_paths(without_contracts), tmp_path) == ["plugins/probation_evidence/sources/contracts/"]
    without_docs = good.replace("docs/                  pages\n", "")
    assert unnamed_folders(tree_paths(without_docs), tmp_path) == ["docs/"]

    sources = tmp_path / "dbt_project" / "models" / "staging" / "staffing"
    sources.mkdir(parents=True)
    (sources / "_staffing__sources.yml").write_text(
        "sources:\n  - name: staffing\n    schema: raw\n    tables: [{name: staff}, {name: absences}]\n"
        "  - name: audit\n    schema: audit\n    tables: [{name: load_batches}]\n",
        encoding="utf-8",
    )
    assert raw_tables(tmp_path) == 2
    assert stated_raw_tables("## What is where\n```\nx/  (3 raw tables from two systems)\n```\n") != 2
