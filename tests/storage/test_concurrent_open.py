"""Several processes opening one new database at once: nobody fails, and each migration
runs exactly once."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PROCESSES = 5
ROUNDS = 6
UPGRADE = (
    "import asyncio, sys\n"
    "from pathlib import Path\n"
    "from bot.storage import upgrade\n"
    "before, after = asyncio.run(upgrade(Path(sys.argv[1])))\n"
    "print(before, after)\n"
)


def test_processes_racing_on_a_new_file_run_each_migration_exactly_once(tmp_path):
    for round_number in range(ROUNDS):
        path = tmp_path / f"race-{round_number}.db"
        runs = [
            subprocess.Popen(
                [sys.executable, "-c", UPGRADE, str(path)],
                cwd=REPO,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(PROCESSES)
        ]
        results = [(*run.communicate(timeout=60), run.returncode) for run in runs]
        for _, err, code in results:
            assert code == 0, err
        reports = [tuple(map(int, out.split())) for out, _, _ in results]
        latest = max(after for _, after in reports)
        assert all(after == latest for _, after in reports), reports
        # A migration run twice would fail its CREATE/ALTER (every exit code was 0), and no
        # two processes may claim to have started the same upgrade: each reports the version
        # it found once it held the write lock.
        starts = [before for before, after in reports if before != after]
        assert 0 in starts and len(starts) == len(set(starts)), reports
