"""Benchmarks (not tests): start-up and per-call overhead of an installed cnitool wheel.

Builds a wheel of this checkout, installs it in a fresh venv (a source checkout would recompile
on every start here: PYTHONDONTWRITEBYTECODE is set), then times each case several times and
reports medians and ratios against a baseline, never absolute pass/fail thresholds:
- start-up: ``cnitool --version`` / ``--help`` against ``python -c pass``;
- overhead: ``cnitool add -o json`` + ``del`` on a 3-plugin chain of no-op plugins against running
  the same three plugin processes directly.
Run as root (add needs a network namespace): ``python bench/run.py [--runs N]``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NOOP_PLUGIN = """#!/bin/sh
cat >/dev/null
[ "$CNI_COMMAND" = ADD ] && echo '{"cniVersion":"1.0.0","ips":[{"address":"10.9.0.2/24"}]}'
exit 0
"""


def timed(argv: list[str], env: dict[str, str], runs: int) -> float:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def install_wheel(work: Path) -> Path:
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(work / "dist"), str(ROOT)], check=True)
    wheel = next((work / "dist").glob("cnitool-*.whl"))
    subprocess.run([sys.executable, "-m", "venv", str(work / "venv")], check=True)
    subprocess.run([str(work / "venv/bin/pip"), "install", "-q", str(wheel)], check=True)
    return work / "venv/bin/cnitool"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    runs = parser.parse_args().runs
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        cnitool = install_wheel(work)
        python = str(work / "venv/bin/python")
        plugins = work / "plugins"
        plugins.mkdir()
        for name in ("noop1", "noop2", "noop3"):
            (plugins / name).write_text(NOOP_PLUGIN)
            (plugins / name).chmod(0o755)
        confdir = work / "net.d"
        confdir.mkdir()
        (confdir / "bench.conflist").write_text(json.dumps(
            {"cniVersion": "1.0.0", "name": "bench", "plugins": [{"type": t} for t in ("noop1", "noop2", "noop3")]}))
        netns = "cnitool-bench"
        subprocess.run(["ip", "netns", "add", netns], check=True)
        try:
            env = {**os.environ, "NETCONFPATH": str(confdir), "CNI_PATH": str(plugins), "CNI_CACHE_DIR": str(work / "cache")}
            baseline = timed([python, "-c", "pass"], env, runs)
            version = timed([str(cnitool), "--version"], env, runs)
            help_ = timed([str(cnitool), "--help"], env, runs)
            direct = timed(["sh", "-c", " && ".join(
                f"echo '{{}}' | CNI_COMMAND={verb} {plugins}/{name} >/dev/null"
                for verb in ("ADD", "DEL") for name in ("noop1", "noop2", "noop3"))], env, runs)
            cycle = timed(["sh", "-c", f"{cnitool} add -o json bench /var/run/netns/{netns} >/dev/null && "
                                       f"{cnitool} del -o json bench /var/run/netns/{netns}"], env, runs)
        finally:
            subprocess.run(["ip", "netns", "del", netns], check=False)
    print(f"runs per case: {runs} (medians)")
    print(f"python -c pass          {baseline * 1000:8.1f} ms   1.00x")
    print(f"cnitool --version       {version * 1000:8.1f} ms   {version / baseline:5.2f}x python start-up")
    print(f"cnitool --help          {help_ * 1000:8.1f} ms   {help_ / baseline:5.2f}x python start-up")
    print(f"6 plugin calls directly {direct * 1000:8.1f} ms")
    print(f"cnitool add + del       {cycle * 1000:8.1f} ms   {cycle / direct:5.2f}x the plugin calls alone")


if __name__ == "__main__":
    main()
