"""Real protocol software the tests start on this machine (ClamAV's clamd, OpenSSH's sshd, certomancer's
time-stamping and OCSP services), each on a free port or a private unix socket, stopped by the fixture.

Software from Debian that is missing skips its tests with the reason, except when the variable the fixture
names is set (``.ci/run`` sets them all): then the skip is a failure, so CI cannot silently pass without it."""

from __future__ import annotations

import os
import shutil

import pytest


def require_program(program: str, package: str, env_var: str) -> str:
    """The program's path, or skip (fail when ``env_var`` is set) saying which Debian package provides it."""
    for directory in (None, "/usr/sbin", "/sbin"):
        found = shutil.which(program, path=directory)
        if found:
            return found
    message = f"{program} is not installed (Debian package {package}); .ci/run installs it"
    if os.environ.get(env_var, "").lower() in {"1", "true", "yes"}:
        pytest.fail(f"{env_var} is set but {message}")
    pytest.skip(message)
