"""Shared fixtures: the repository's examples and the `reward` binary to compare against."""

import json
import os
import pathlib
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"


def example_specs():
    """Every bundled example that has sample rows."""
    return sorted(p for p in EXAMPLES.glob("*.reward") if p.with_suffix(".jsonl").exists())


def read_rows(spec_path):
    with open(pathlib.Path(spec_path).with_suffix(".jsonl"), encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def _binary():
    explicit = os.environ.get("REWARD_BIN")
    if explicit:
        return explicit
    for profile in ("release", "debug"):
        candidate = ROOT / "target" / profile / "reward"
        if candidate.exists():
            return str(candidate)
    return None


@pytest.fixture(scope="session")
def cli():
    """Runs `reward ARGS…` and returns (status, stdout lines, stderr)."""
    binary = _binary()
    if binary is None:
        subprocess.run(
            ["cargo", "build", "-q", "-p", "reward-cli"], cwd=ROOT, check=True
        )
        binary = str(ROOT / "target" / "debug" / "reward")

    def run(*args, stdin=None):
        p = subprocess.run(
            [binary, *map(str, args)], input=stdin, capture_output=True, text=True, cwd=ROOT
        )
        return p.returncode, p.stdout.splitlines(), p.stderr

    return run
