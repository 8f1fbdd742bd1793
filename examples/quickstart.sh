#!/usr/bin/env bash
# README quick start, step 1: install everything, then run the main job on the bundled example
# network: add a namespace to it (created on the fly), check it, delete it and the namespace.
set -euo pipefail
cd "$(dirname "$0")/.."
bash .ci/install

cnitool="$PWD/.venv/bin/cnitool"  # the one just installed, whatever else is on PATH
export NETCONFPATH="$PWD/examples"
export CNI_PATH=/usr/lib/cni
ns=cnitool-demo-ns
set -x
"$cnitool" -o table add cnitool-demo "$ns"
ip netns exec "$ns" ip -brief address show eth0
ip netns exec "$ns" ping -c1 -W2 10.22.0.1
"$cnitool" -o table check cnitool-demo "$ns"
"$cnitool" -o table del cnitool-demo "$ns" --remove-netns
