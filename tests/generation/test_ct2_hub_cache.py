"""The CTranslate2 engine loads a Hugging Face id from the hub cache, not from the working
directory: a tiny GPT-2 laid out exactly as ``hf download`` leaves it (blobs, a snapshot of
symlinks, refs/main), found offline through ``HF_HUB_CACHE`` in a fresh process."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("ctranslate2") is None, reason="ctranslate2 is optional"
)

REPO_ID = "inkwell-tests/tiny-gpt2"
REVISION = "0123456789abcdef0123456789abcdef01234567"
ROOT = Path(__file__).resolve().parents[2]

LOAD = """
import json, sys
from pathlib import Path
from bot.generation.ct2_loading import load_ct2_model

loaded = load_ct2_model(sys.argv[1], cache_dir=Path(sys.argv[2]), replicas=1)
prompt = loaded.tokenizer.convert_ids_to_tokens(loaded.tokenizer("Rain")["input_ids"])
[step] = loaded.model.generate_batch([prompt], max_length=3, sampling_topk=1)
print(json.dumps({
    "name": loaded.name,
    "context_window": loaded.context_window,
    "eos_ids": sorted(loaded.eos_ids),
    "new_tokens": len(step.sequences_ids[0]),
}))
"""


def lay_out_as_hub_cache(checkpoint: Path, hub_cache: Path) -> Path:
    """Copy ``checkpoint`` into ``hub_cache`` the way huggingface_hub stores a download."""
    repo = hub_cache / f"models--{REPO_ID.replace('/', '--')}"
    snapshot = repo / "snapshots" / REVISION
    (repo / "blobs").mkdir(parents=True)
    snapshot.mkdir(parents=True)
    for file in sorted(checkpoint.iterdir()):
        data = file.read_bytes()
        blob = repo / "blobs" / hashlib.sha256(data).hexdigest()
        blob.write_bytes(data)
        (snapshot / file.name).symlink_to(os.path.relpath(blob, snapshot))
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(REVISION)
    return snapshot


def test_hub_id_is_read_from_the_snapshot_not_the_working_directory(tiny_gpt2_dir, tmp_path):
    hub_cache = tmp_path / "hub"
    snapshot = lay_out_as_hub_cache(tiny_gpt2_dir, hub_cache)
    elsewhere = tmp_path / "elsewhere"  # has no "inkwell-tests/tiny-gpt2" inside
    elsewhere.mkdir()
    env = {
        **os.environ,
        "HF_HUB_CACHE": str(hub_cache),
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "PYTHONPATH": str(ROOT),
    }
    done = subprocess.run(
        [sys.executable, "-c", LOAD, REPO_ID, str(tmp_path / "cache")],
        cwd=elsewhere,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    loaded = json.loads(done.stdout.strip().splitlines()[-1])
    config = json.loads((snapshot / "config.json").read_text(encoding="utf-8"))
    assert loaded["name"] == REPO_ID
    # Read from the snapshot's config.json (256), not the 1,024 fallback for a missing file.
    assert loaded["context_window"] == config["n_positions"] == 256
    assert config["eos_token_id"] in loaded["eos_ids"]
    assert loaded["new_tokens"] >= 1
    assert not (elsewhere / "inkwell-tests").exists()
