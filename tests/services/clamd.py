"""ClamAV's daemon from Debian (package clamav-daemon), started with a signature database made here.

freshclam cannot download signatures in CI, so the database is one body signature (.ndb) for the EICAR test
string, which clamd reports as ``Brygga.Test.EICAR.UNOFFICIAL``. clamd listens on a unix socket in the test's
folder; ``pause``/``resume`` stop and continue the process (SIGSTOP/SIGCONT) to make it not answer."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

from tests.services import require_program

# The EICAR anti-virus test string (not malware: every scanner detects it by agreement).
EICAR = b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
SIGNATURE = "Brygga.Test.EICAR"


class Clamd:
    def __init__(self, folder: Path) -> None:
        binary = require_program("clamd", "clamav-daemon", "BRYGGA_REQUIRE_CLAMAV")
        self.folder = folder
        database = folder / "db"
        database.mkdir(parents=True)
        (database / "brygga.ndb").write_text(f"{SIGNATURE}:0:*:{EICAR.hex()}\n")
        self.socket = str(folder / "clamd.sock")
        self.log = folder / "clamd.log"
        config = folder / "clamd.conf"
        config.write_text(
            "\n".join(
                [
                    "Foreground yes",
                    f"LocalSocket {self.socket}",
                    f"DatabaseDirectory {database}",
                    f"LogFile {self.log}",
                    "SelfCheck 3600",
                    "",
                ]
            )
        )
        self.process = subprocess.Popen(
            [binary, "--config-file", str(config)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + 60
        while not os.path.exists(self.socket):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(
                    f"clamd did not start: {self.log.read_text() if self.log.exists() else ''}"
                )
            time.sleep(0.05)

    def pause(self) -> None:
        self.process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        self.process.send_signal(signal.SIGCONT)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGCONT)
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        if self.process.stderr:
            self.process.stderr.close()
