"""Rasa's own checks: data validation and the test stories in tests/stories/ on the trained model."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from tests.support import MODEL, RASA, REPO, add_report


def run_rasa(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(RASA), *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=900
    )


def test_training_data_is_valid_without_conflicts(server_env: dict[str, str]) -> None:
    result = run_rasa(["data", "validate"], server_env)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-4000:]
    assert "No story structure conflicts found" in output


def test_conversation_stories_pass(
    endpoints_file: Path, server_env: dict[str, str], tmp_path: Path
) -> None:
    out = tmp_path / "results"
    command = ["test", "core", "--model", str(MODEL), "--stories", "tests/stories"]
    command += [
        "--endpoints",
        str(endpoints_file),
        "--out",
        str(out),
        "--fail-on-prediction-errors",
    ]
    result = run_rasa(command, server_env)
    failed = out / "failed_test_stories.yml"
    details = failed.read_text() if failed.exists() else ""
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:] + "\n" + details
    stories = len(list(Path(REPO, "tests/stories").glob("*.yml")))
    add_report(f"Test stories: all passed ({stories} files, `rasa test core`).")
    assert os.path.exists(out / "story_report.json")
