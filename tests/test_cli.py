"""The command-line contract: --help lists every command (as the README does), --json is JSON on stdout and
nothing else, -o writes the same JSON, search hits carry the merchant's id, --batch answers one line per query,
catalog commands start without torch, train encoder's flags come from EncoderRunOptions."""

from __future__ import annotations

import argparse
import dataclasses
import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from recsys import cli, cli_output, options, search_cli
from recsys.config import REPO_ROOT, get_settings
from tests.small_catalog import COLOURS, photo

HEAVY = ("torch", "torchvision", "faiss", "lightgbm", "sklearn", "gradio", "transformers", "open_clip", "pandas")


@pytest.fixture
def data_env(tmp_path, monkeypatch):
    """RECSYS_* for a fresh data dir, for in-process ``cli.main`` and for subprocesses."""
    env = {
        "RECSYS_DATA_DIR": str(tmp_path / "data"),
        "RECSYS_DEMO_LIMIT": "0",
        "RECSYS_DEMO_DIR": str(tmp_path / "no-demo"),
        "HF_HUB_OFFLINE": "1",
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    get_settings.cache_clear()
    yield {**os.environ, **env}
    get_settings.cache_clear()


def recsys(*argv: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "recsys", *argv], capture_output=True, text=True, env=env, cwd=REPO_ROOT, timeout=300
    )


def catalog_csv(folder: Path) -> Path:
    path = folder / "catalog.csv"
    path.write_text(
        "id,title,category,price\nsku-1,Red cotton shirt,Apparel > Shirts,12\n"
        "sku-2,Blue linen dress,Apparel > Dresses,30\nsku-3,<b>bad</b>,Apparel > Shirts,5\n"
    )
    return path


# --- --help and the README ------------------------------------------------------------------------------------


def readme_commands() -> list[tuple[str, str]]:
    text = (REPO_ROOT / "README.md").read_text()
    section = text.split("\n## Command line\n", 1)[1].split("\n## ", 1)[0]
    return [(m[1], m[2].strip()) for m in re.finditer(r"^\| `([^`]+)` \| (.+?) \|$", section, re.M)]


def test_help_lists_every_command_on_one_line_and_the_readme_table_matches():
    parser = cli.build_parser()
    listed = cli_output.commands(parser)
    assert [name for name, _ in listed] == [
        "import",
        "import-events",
        "stats",
        "gc-images",
        "serve",
        "opinions",
        "search",
        "eval",
        "train ranker",
        "train multilingual-head",
        "train encoder",
        "models list",
        "models activate",
        "users add",
        "users list",
    ]
    text = parser.format_help()
    for name, help_text in listed:
        lines = [line for line in text.splitlines() if re.match(rf"^\s+{re.escape(name)}\s{{2,}}\S", line)]
        assert len(lines) == 1 and lines[0].rstrip().endswith(help_text), (name, lines)
    assert readme_commands() == listed


def test_every_command_but_serve_takes_json_and_output():
    parser = cli.build_parser()
    for name, _ in cli_output.commands(parser):
        sub = parser
        for word in name.split():
            sub = next(a for a in sub._actions if isinstance(a, argparse._SubParsersAction)).choices[word]
        if isinstance(sub, cli_output.CommandParser):
            sub.build_deferred()
        flags = {flag: a for a in sub._actions for flag in a.option_strings}
        if name == "serve":
            assert "--json" not in flags
            continue
        assert isinstance(flags["--json"], argparse._StoreTrueAction) and flags["--json"].nargs == 0, name
        assert flags["-o"] is flags["--output"] and flags["-o"].nargs is None, name


# --- start-up time: no torch for catalog commands -------------------------------------------------------------


def test_catalog_commands_and_help_do_not_import_heavy_modules(data_env, tmp_path):
    script = f"""
import contextlib, io, sys
from recsys.cli import main
with contextlib.redirect_stdout(io.StringIO()):
    codes = [main(["stats"]), main(["import", "--catalog", {str(catalog_csv(tmp_path))!r}]), main(["gc-images"])]
    try:
        main(["--help"])
    except SystemExit:
        pass
print(codes, sorted(m for m in {HEAVY!r} if m in sys.modules))
"""
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=data_env, cwd=REPO_ROOT, timeout=300
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[0, 0, 0] []"


# --- --json and -o ---------------------------------------------------------------------------------------------


def test_json_is_the_only_stdout_and_output_writes_the_same(data_env, tmp_path):
    csv_path = catalog_csv(tmp_path)
    done = recsys("import", "--catalog", str(csv_path), "--json", "-o", str(tmp_path / "import.json"), env=data_env)
    report = json.loads(done.stdout)  # the whole of stdout is one JSON document
    assert done.returncode == 0 and report["added"] == 2 and len(report["rejected"]) == 1
    assert json.loads((tmp_path / "import.json").read_text()) == report
    assert "import" in done.stderr  # progress went to stderr

    done = recsys("stats", "--json", "-o", str(tmp_path / "stats.json"), env=data_env)
    stats = json.loads(done.stdout)
    assert stats["items"] == 2 and json.loads((tmp_path / "stats.json").read_text()) == stats
    done = recsys("stats", "-o", str(tmp_path / "stats2.json"), env=data_env)  # readable stdout, JSON file
    assert "items: 2" in done.stdout and json.loads((tmp_path / "stats2.json").read_text()) == stats

    done = recsys("gc-images", "--dry-run", "--json", env=data_env)
    assert json.loads(done.stdout)["dry_run"] is True
    done = recsys("models", "list", "--json", env=data_env)
    assert json.loads(done.stdout) == []
    done = recsys("models", "activate", "no-such-version", "--json", env=data_env)
    assert done.returncode == 2 and done.stdout == "" and "error" in done.stderr


def test_json_stdout_diverts_prints_and_file_descriptor_writes(tmp_path):
    script = """
import os, sys
from recsys import cli_output
with cli_output.json_stdout(True):
    print("a log line")
    os.write(1, b"C library noise\\n")
    print(cli_output.to_json({"ok": float("nan"), "n": 1}, indent=None), file=cli_output.stdout())
print("after")
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=REPO_ROOT, timeout=60)
    assert done.stdout.splitlines() == ['{"ok": null, "n": 1}', "after"]
    assert "a log line" in done.stderr and "C library noise" in done.stderr


def test_eval_json_is_the_report_and_progress_goes_to_stderr(data_env, tmp_path, capsys):
    from tests.evaluation import fixtures

    data = fixtures.write_instacart(tmp_path / "sets")
    out = tmp_path / "report.json"
    assert cli.main(["eval", "instacart", "--data", str(data), "--json", "-o", str(out)]) == 0
    captured = capsys.readouterr()
    report = json.loads(captured.out)
    assert report["suite"] == "instacart" and json.loads(out.read_text()) == report
    assert "eval instacart:" in captured.err and "report stored" in captured.err


# --- search ------------------------------------------------------------------------------------------------------


def test_search_hits_carry_the_external_id(small_search_service):
    row = search_cli.search_one(small_search_service, search_cli.Query(0, "red cotton shirt"), k=5)
    assert row["results"] and "line" not in row
    for hit in row["results"]:
        item = small_search_service.get_item(hit["item_id"])
        assert hit["external_id"] == item.external_id and hit["title"] == item.title
    json.loads(cli_output.to_json(row))


def test_search_batch_prints_one_json_line_per_query(small_search_service, tmp_path, capsys):
    text_file = tmp_path / "queries.txt"
    text_file.write_text("red shirt\n\nblue dress\nblack watch\n")
    args = argparse.Namespace(k=3, category=[], output=tmp_path / "out.jsonl")
    queries = list(search_cli.read_batch(str(text_file)))
    assert [q.line for q in queries] == [1, 3, 4]  # the blank line is no query
    assert search_cli._batch(small_search_service, queries, args) == 0
    lines = capsys.readouterr().out.splitlines()
    rows = [json.loads(line) for line in lines]
    assert [r["line"] for r in rows] == [1, 3, 4] and all(len(r["results"]) == 3 for r in rows)
    assert all("external_id" in hit for r in rows for hit in r["results"])
    assert (tmp_path / "out.jsonl").read_text().splitlines() == lines

    (tmp_path / "red.jpg").write_bytes(photo(COLOURS["red"]))
    (tmp_path / "broken.jpg").write_bytes(b"not a jpeg")
    csv_file = tmp_path / "queries.csv"
    csv_file.write_text(
        'id,text,image\nq1,red shirt,\nq2,,red.jpg\nq3,,missing.jpg\nq4,,\nq5,"dress",broken.jpg\nq6,green sneakers,\n'
    )
    args.output = None
    assert search_cli._batch(small_search_service, list(search_cli.read_batch(str(csv_file))), args) == 1
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["id"] for r in rows] == ["q1", "q2", "q3", "q4", "q5", "q6"]  # one line each, in order
    assert [("error" in r) for r in rows] == [False, False, True, True, True, False]
    assert rows[1]["image"] == str(tmp_path / "red.jpg") and rows[1]["results"]
    assert "empty query" in rows[3]["error"] and rows[5]["results"]


def test_search_batch_csv_needs_a_text_or_image_column(tmp_path):
    bad = tmp_path / "q.csv"
    bad.write_text("query\nred\n")
    with pytest.raises(ValueError, match="'text' and/or an 'image' column"):
        list(search_cli.read_batch(str(bad)))


def test_search_command_end_to_end_loads_once_for_a_batch(small_search_service, monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(search_cli, "get_settings", lambda: small_search_service.settings)
    small_search_service.engine.wait_idle()
    queries = tmp_path / "q.txt"
    queries.write_text("red shirt\nyellow handbag\n")
    assert cli.main(["search", "--batch", str(queries), "-k", "2"]) == 0
    captured = capsys.readouterr()
    rows = [json.loads(line) for line in captured.out.splitlines()]
    assert [r["query"] for r in rows] == ["red shirt", "yellow handbag"] and "2 queries, 0 failed" in captured.err
    assert cli.main(["search", "white watch", "-k", "2", "--json"]) == 0
    one = json.loads(capsys.readouterr().out)
    assert len(one["results"]) == 2 and {"item_id", "external_id"} <= set(one["results"][0])
    assert cli.main(["search"]) == 2 and cli.main(["search", "x", "--batch", str(queries)]) == 2


# --- train encoder: flags from the dataclass ------------------------------------------------------------------


def encoder_parser() -> argparse.ArgumentParser:
    parser = cli.build_parser()
    train = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices["train"]
    encoder = next(a for a in train._actions if isinstance(a, argparse._SubParsersAction)).choices["encoder"]
    encoder.build_deferred()
    return encoder


def test_train_encoder_flags_are_the_run_options_fields():
    from recsys.training.cli import run_options
    from recsys.training.run_options import EncoderRunOptions

    parser = encoder_parser()
    dests = {a.dest for a in parser._actions} - {"help", "activate", "json", "output"}
    assert dests == {f.name for f in dataclasses.fields(EncoderRunOptions)}
    # the documented spellings (README, docs/training.md)
    args = cli.build_parser().parse_args(
        [
            "train",
            "encoder",
            "--tail-weight",
            "0.5",
            "--logq",
            "--logq-by",
            "item",
            "--fixed-temperature",
            "--source",
            "catalog",
            "--source",
            "clicks",
            "--hard-negatives",
            "2",
            "--uniform-weight",
            "0.2",
            "--json",
        ]
    )
    assert run_options(args) == EncoderRunOptions(
        tail_weight=0.5,
        log_q=True,
        log_q_by="item",
        learn_temperature=False,
        sources=("catalog", "clicks"),
        hard_negatives=2,
        uniform_weight=0.2,
    )
    assert args.json is True and args.output is None
    assert run_options(cli.build_parser().parse_args(["train", "encoder"])) == EncoderRunOptions()


def test_a_field_added_to_the_run_options_appears_as_a_flag():
    from recsys.training.run_options import EncoderRunOptions

    Extended = dataclasses.make_dataclass(
        "Extended",
        [("label_smoothing", float, options.option(0.0, help="smooth the targets", minimum=0))],
        bases=(EncoderRunOptions,),
        frozen=True,
    )
    parser = argparse.ArgumentParser()
    options.add_arguments(parser, Extended)
    assert "--label-smoothing" in parser.format_help() and "smooth the targets (default: 0.0)" in parser.format_help()
    got = options.from_arguments(Extended, parser.parse_args(["--label-smoothing", "0.1", "--epochs", "3"]))
    assert got.label_smoothing == 0.1 and got.epochs == 3
    with pytest.raises(ValueError, match="label_smoothing must be at least 0"):
        options.from_arguments(Extended, parser.parse_args(["--label-smoothing", "-1"]))


def test_train_encoder_reports_bad_options_with_reasons(data_env, capsys):
    assert cli.main(["train", "encoder", "--epochs", "0", "--source", "judgments", "--json"]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and "epochs must be at least 1" in captured.err and "judgments file" in captured.err


# --- progress --------------------------------------------------------------------------------------------------


def test_progress_lines_on_a_plain_stream():
    stream = io.StringIO()
    with cli_output.ProgressReporter("import", unit="row", stream=stream) as progress:
        for done in range(0, 101, 5):
            progress(done, 100, "rows")
        progress(1, 2, "images")
    lines = stream.getvalue().splitlines()
    assert lines[0].startswith("import: rows started")
    assert sum("rows" in line and "/100 row" in line for line in lines) == 10  # one per tenth, not one per call
    assert any(line.startswith("import: images started") for line in lines)
    assert not any("\r" in line for line in lines)


def test_heartbeat_says_it_is_still_working():
    stream = io.StringIO()
    reporter = cli_output.ProgressReporter("eval fashion", stream=stream, bar=False, heartbeat_s=0.05)
    import time

    time.sleep(0.3)
    reporter.close("eval fashion: done")
    text = stream.getvalue()
    assert "eval fashion: still working" in text and text.splitlines()[-1] == "eval fashion: done"


def test_users_add_reads_the_password_from_stdin_and_refuses_reserved_names(data_env):
    def add(name: str, password: str, role: str = "merchant") -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "recsys", "users", "add", name, "--role", role, "--password-stdin", "--json"],
            input=password + "\n",
            capture_output=True,
            text=True,
            env=data_env,
            cwd=REPO_ROOT,
            timeout=120,
        )

    done = add("alice", "alice-secret-1")
    assert done.returncode == 0 and json.loads(done.stdout) == {"name": "alice", "role": "merchant"}
    assert "alice-secret-1" not in done.stdout + done.stderr
    assert add("demo", "long enough pass", "admin").returncode == 2  # the demo catalog's owner is reserved
    assert add("bob", "short").returncode == 2
    assert add("alice", "another-secret").returncode == 2  # exists already
    listed = recsys("users", "list", "--json", env=data_env)
    assert json.loads(listed.stdout) == [{"name": "alice", "role": "merchant"}]
