"""benchmarks/neural_parity.py in tiny mode against the release's source (skipped without its mirror)."""
import json
import os
import subprocess
import sys

import pytest

MIRROR = "/work/.mirror/GVCLab+EmoCAST/repo"
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

pytestmark = pytest.mark.skipif(not os.path.isdir(MIRROR), reason="release mirror not present")


def test_tiny_parity_with_release(tmp_path):
    pytest.importorskip("einops")
    src = tmp_path / "release"
    src.mkdir()
    archive = subprocess.run(["git", "-C", MIRROR, "archive", "HEAD"], check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(src)], input=archive, check=True)
    out = tmp_path / "parity.json"
    r = subprocess.run([sys.executable, os.path.join(ROOT, "benchmarks", "neural_parity.py"), "--release", str(src),
                        "--config", "tiny", "--frames", "2", "--latent", "16", "--json", str(out)],
                       capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    res = json.loads(out.read_text())
    assert res["passed"] and res["load"]["reverse_conversion_ok"] and not res["bank_pairing"]
    assert not any(row.get("note") for row in res["rows"])          # every block exists on both sides
    assert max(row["rel"] for row in res["rows"] if row["max_abs_diff"] is not None) < 1e-4
