"""README's first command ends in .ci/demo: config.json.example must run."""
import os
import subprocess

from conftest import BERTH, REPO


def test_demo_runs_config_example(tmp_path):
    p = subprocess.run(["bash", os.path.join(REPO, ".ci", "demo")], capture_output=True,
                       text=True, timeout=60, env={**os.environ, "BERTH": BERTH,
                                                    "BERTH_ROOT": str(tmp_path / "root")})
    assert p.returncode == 0, p.stderr
    out = p.stdout.splitlines()
    assert "spec: 1.3.0" in out
    assert "hostname: berth-demo" in out
    assert any(l.startswith("id: uid=0(root)") for l in out)
    i = out.index("mounts:")
    assert out[i + 1].split()[4] == "/" and " ro," in out[i + 1] + ","
    assert os.listdir(tmp_path / "root") == []
