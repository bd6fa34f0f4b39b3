"""`python -m qa serve` as a user starts it: what a busy port says, before anything else happens."""
import os
import socket
import subprocess
import sys

from conftest import ROOT, SEEDS


def test_a_busy_port_is_one_line_and_exit_status_4(tmp_path):
    """The port is held by another listener on 127.0.0.1; serve must not claim to be serving, must not
    retry, and must stop before building an index."""
    index = tmp_path / "index"
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run([sys.executable, "-m", "qa", "serve", "--host", "127.0.0.1", "--port", str(port),
                               "--index", str(index), "--seeds", str(SEEDS)],
                              capture_output=True, text=True, cwd=ROOT, timeout=120,
                              env=dict(os.environ, HF_HUB_OFFLINE="1", PYTHONPATH=str(ROOT)))
    assert done.returncode == 4, done.stderr
    assert done.stderr == f"error: port {port} is in use: choose another with --port or QA_PORT\n"
    assert done.stdout == "" and not index.exists()
