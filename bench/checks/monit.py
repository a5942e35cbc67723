# SPDX-License-Identifier: MIT
"""Monit, the peer hale is measured against: its configurations for each
scenario, run in the foreground with its state in a temporary directory."""
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path


class Monit:
    def __init__(self, body, daemon_seconds):
        self.dir = Path(tempfile.mkdtemp(prefix="hale-bench-monit-"))
        rc = self.dir / "monitrc"
        rc.write_text(f"""set daemon {daemon_seconds}
set logfile {self.dir}/monit.log
set idfile {self.dir}/monit.id
set statefile {self.dir}/monit.state
set pidfile {self.dir}/monit.pid
set limits {{ programTimeout: 30 seconds }}
{body}
""")
        rc.chmod(0o600)
        self.rc = rc

    def start(self):
        self.proc = subprocess.Popen(["monit", "-I", "-c", str(self.rc)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return self

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


def http_checks(port, n, prefix="/m"):
    return "\n".join(
        f'check host h{i} with address 127.0.0.1\n'
        f'    if failed port {port} protocol http request "{prefix}{i}" then alert'
        for i in range(n))


def program_checks(n, marks):
    """n /bin/true programs between two that stamp the time into marks."""
    stamp = f"/bin/sh -c 'date +%s.%N >> {marks}'"
    body = [f'check program first with path "{stamp}"\n    if status != 0 then alert']
    body += [f'check program p{i} with path "/bin/true"\n    if status != 0 then alert'
             for i in range(n)]
    body += [f'check program last with path "{stamp}"\n    if status != 0 then alert']
    return "\n".join(body)


def process_check(pidfile, detected):
    return (f"check process victim with pidfile {pidfile}\n"
            f"    if does not exist then exec \"/bin/sh -c 'date +%s.%N >> {detected}'\"")
