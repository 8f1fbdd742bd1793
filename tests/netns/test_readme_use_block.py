"""The README's "Use" block, pasted in order, works line by line and ends clean.

It used to add ``ns1`` twice (the second ``add`` is refused, exit 2, and ``jq`` got nothing) and
set NETCONFPATH as a prefix of one line only. The block runs here as a bash script with
``set -e -o pipefail``, against a bridge + host-local + portmap network of its own: the only
changes are this test's unique names for the config directory, ``mynet``, ``ns1`` and ``ns2``, a
private cache directory, and ``jq`` replaced by a Python one-liner that parses the JSON the same
way (jq is not among what .ci/run installs).
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import netns_kernel as k

README = Path(__file__).resolve().parents[2] / "README.md"
JQ_IPS = """python3 -c 'import json, sys; print(json.load(sys.stdin)["ips"])'"""


def use_block() -> str:
    text = README.read_text()
    section = text[text.index("\n## Use\n"):]
    return re.search(r"```sh\n(.*?)```", section, re.S)[1]


def test_readme_use_block_runs_in_order_and_leaves_no_attachment(lab, tmp_path: Path) -> None:
    bridge, subnet = lab.bridge_name(), lab.subnet()
    network = lab.network([
        {"type": "bridge", "bridge": bridge, "isGateway": True, "ipMasq": True, "ipam": lab.host_local(subnet)},
        {"type": "portmap", "capabilities": {"portMappings": True}},
    ])
    ns1, ns2 = lab.netns_name(), lab.netns_name()
    block = use_block()
    assert "export NETCONFPATH=/etc/cni/net.d" in block and "| jq .ips" in block
    script = (block.replace("/etc/cni/net.d", str(lab.conf_dir)).replace("mynet", network.name)
              .replace("ns1", ns1).replace("ns2", ns2).replace("jq .ips", JQ_IPS))
    shim = tmp_path / "bin" / "cnitool"  # the cnitool of this checkout, as the block calls it
    shim.parent.mkdir()
    shim.write_text(f'#!/bin/sh\nexec {sys.executable} -m cnitool "$@"\n')
    shim.chmod(0o755)

    env = {**lab.env(), "PATH": f"{shim.parent}:/usr/sbin:/usr/bin:/sbin:/bin"}
    run = subprocess.run(["bash", "-e", "-x", "-o", "pipefail", "-c", script], env=env,
                         capture_output=True, text=True)
    assert run.returncode == 0, run
    assert f"'address': '{subnet[2]}/24'" in run.stdout  # the piped JSON parsed
    assert "eth0@" in run.stdout and "UP" in run.stdout  # exec's command ran inside
    assert not (lab.cache_dir / "results").exists() or list((lab.cache_dir / "results").iterdir()) == []
    assert not {ns1, ns2} & k.netns_names()
    assert lab.our_rules("nat") == [] and lab.our_rules("filter") == []
