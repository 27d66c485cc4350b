"""Where the live page listens: --preview [HOST:]PORT, checked before any work (no web library needed)."""

from __future__ import annotations

import ipaddress

from ..errors import SettingsError

DEFAULT_HOST = "127.0.0.1"  # only this machine; reach it from elsewhere with ssh -L


def parse_address(text: str) -> tuple[str, int]:
    """'8000' -> ('127.0.0.1', 8000); 'HOST:PORT' -> (HOST, PORT); '[::1]:8000' for IPv6; port 0: any free one."""
    host, _, port = text.strip().rpartition(":")
    host = host.strip("[]") or DEFAULT_HOST
    try:
        number = int(port)
    except ValueError:
        number = -1
    if not 0 <= number <= 65535:
        raise SettingsError(f"--preview {text!r}: not a port (0-65535) or HOST:PORT",
                            hint="e.g. --preview 8000, or --preview 0 for any free port")  # fmt: skip
    return host, number


def is_loopback(host: str) -> bool:
    """Whether only this machine can reach `host` (localhost, 127.x, ::1)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def exposure_warning(host: str) -> str | None:
    """What to say when the page listens beyond this machine (None: it does not)."""
    if is_loopback(host):
        return None
    return (f"--preview {host}: anyone on the network who has the page's address (with its token) can watch "
            "and steer this run; prefer the default 127.0.0.1 and ssh -L from elsewhere")
