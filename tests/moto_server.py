"""moto's S3 server on loopback, in a process of its own, for the blob and soak tests."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

# A process of its own, so that its memory does not count in tracemalloc
# measurements and every soak worker can share it; it prints its port and
# serves until its stdin closes.
_MOTO_SERVER = """
import logging, sys
from moto.server import ThreadedMotoServer
logging.getLogger("werkzeug").setLevel(logging.ERROR)
server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
server.start()
print(server.get_host_and_port()[1], flush=True)
sys.stdin.read()
server.stop()
"""


def start_moto(log: Path, part_size: int) -> tuple[subprocess.Popen[str], int]:
    """Start the server, accepting multipart parts of ``part_size``; its process and port."""
    env = {**os.environ, "S3_UPLOAD_PART_MIN_SIZE": str(part_size)}
    with log.open("w") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-c", _MOTO_SERVER],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=stderr,
            env=env,
            text=True,
        )
    assert process.stdout is not None
    line = process.stdout.readline()
    if not line.strip().isdigit():
        process.kill()
        pytest.fail(f"moto server did not start: {log.read_text()}")
    return process, int(line)


def stop_moto(process: subprocess.Popen[str]) -> None:
    """Close the server's stdin and wait for it, killing it if it hangs."""
    assert process.stdin is not None
    assert process.stdout is not None
    process.stdin.close()
    process.stdout.close()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
