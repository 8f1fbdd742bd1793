"""CNI results of every spec version: one model, parsed from and written to each version's layout.

The model is the 1.1.0 result (the newest); older layouts are views of it:
0.1.0/0.2.0 ``ip4``/``ip6`` objects with their own routes, 0.3.x/0.4.0 ``ips`` with a ``version``
field, 1.x ``ips`` without it (SPEC.md "Result" of each version; libcni pkg/types/{020,040,100}).
``cni_version`` is the version the result is *in*; converting changes it and applies the
losses the reference applies (RES-02).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Interface:
    name: str
    mac: str = ""
    sandbox: str = ""
    mtu: int | None = None  # 1.1.0
    socket_path: str = ""  # 1.1.0 "socketPath"
    pci_id: str = ""  # 1.1.0 "pciID"


@dataclass(frozen=True)
class IPConfig:
    address: str  # CIDR, normalised as Go's net.IPNet prints it: "10.1.0.5/24"
    gateway: str | None = None  # plain IP
    interface: int | None = None  # index into Result.interfaces

    @property
    def family(self) -> int:
        """4 or 6, from the address (how 1.x → 0.4.0 derives ``version``)."""
        return 6 if ":" in self.address else 4


@dataclass(frozen=True)
class Route:
    dst: str  # CIDR
    gw: str | None = None
    mtu: int | None = None  # 1.1.0
    advmss: int | None = None  # 1.1.0
    priority: int | None = None  # 1.1.0
    table: int | None = None  # 1.1.0
    scope: int | None = None  # 1.1.0


@dataclass(frozen=True)
class DNS:
    nameservers: tuple[str, ...] = ()
    domain: str = ""
    search: tuple[str, ...] = ()
    options: tuple[str, ...] = ()

    @property
    def is_empty(self) -> bool:
        return not (self.nameservers or self.domain or self.search or self.options)


@dataclass(frozen=True)
class Result:
    cni_version: str
    interfaces: tuple[Interface, ...] = ()
    ips: tuple[IPConfig, ...] = ()
    routes: tuple[Route, ...] = ()
    dns: DNS = field(default_factory=DNS)
