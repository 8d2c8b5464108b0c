"""OpenSSH's server from Debian (package openssh-server), started on 127.0.0.1 with a host key and a client
key generated here, SFTP only (internal-sftp), public-key authentication only, for the current user."""

from __future__ import annotations

import getpass
import os
import socket
import subprocess
import time
from pathlib import Path

from tests.services import require_program


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _keygen(path: Path) -> None:
    keygen = require_program("ssh-keygen", "openssh-client", "BRYGGA_REQUIRE_SSHD")
    subprocess.run([keygen, "-q", "-t", "ed25519", "-N", "", "-f", str(path)], check=True)


class Sshd:
    def __init__(self, folder: Path) -> None:
        binary = require_program("sshd", "openssh-server", "BRYGGA_REQUIRE_SSHD")
        self.folder = folder
        self.user = getpass.getuser()
        self.host_key = folder / "host_key"
        self.client_key = folder / "client_key"
        _keygen(self.host_key)
        _keygen(self.client_key)
        authorized = folder / "authorized_keys"
        authorized.write_text((folder / "client_key.pub").read_text())
        authorized.chmod(0o600)
        self.inbox = folder / "inbox"
        self.inbox.mkdir()
        if os.geteuid() == 0:
            Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # sshd's privilege separation directory
        self.port = _free_port()
        config = folder / "sshd_config"
        config.write_text(
            "\n".join(
                [
                    f"Port {self.port}",
                    "ListenAddress 127.0.0.1",
                    f"HostKey {self.host_key}",
                    f"PidFile {folder / 'sshd.pid'}",
                    f"AuthorizedKeysFile {authorized}",
                    f"AllowUsers {self.user}",
                    "PermitRootLogin prohibit-password",
                    "PasswordAuthentication no",
                    "KbdInteractiveAuthentication no",
                    "PubkeyAuthentication yes",
                    "UsePAM no",
                    "StrictModes no",
                    "Subsystem sftp internal-sftp",
                    "ForceCommand internal-sftp",
                    "",
                ]
            )
        )
        self.log = folder / "sshd.log"
        self.process = subprocess.Popen([binary, "-D", "-e", "-f", str(config), "-E", str(self.log)])
        deadline = time.monotonic() + 20
        while True:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
                    if sock.recv(4).startswith(b"SSH-"):
                        break
            except OSError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"sshd did not start: {self.log.read_text() if self.log.exists() else ''}")
            time.sleep(0.05)

    @property
    def host_key_line(self) -> str:
        return (self.folder / "host_key.pub").read_text().strip()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
