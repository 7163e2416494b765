#!/usr/bin/env python3
"""Runs a command on a pseudo-terminal, waits for its [y/N] prompt, answers with one key
(c: Ctrl-C, d: Ctrl-D, n: "n" and Enter), then prints what it wrote and exits with its status.
Tests use it to see what a person at a terminal sees; node's child_process has no terminal."""
import os
import pty
import select
import sys
import time

KEYS = {'c': b'\x03', 'd': b'\x04', 'n': b'n\r'}


def main() -> int:
    key, command = KEYS[sys.argv[1]], sys.argv[2:]
    pid, fd = pty.fork()
    if pid == 0:
        os.execvp(command[0], command)
    output = b''

    def drain(seconds: float) -> bool:
        nonlocal output
        end = time.time() + seconds
        while time.time() < end:
            ready, _, _ = select.select([fd], [], [], 0.05)
            if ready:
                try:
                    output += os.read(fd, 65536)
                except OSError:
                    return False
        return True

    deadline = time.time() + 30
    while b'[y/N]' not in output and time.time() < deadline and drain(0.1):
        pass
    os.write(fd, key)
    drain(3)
    _, status = os.waitpid(pid, 0)
    sys.stdout.write(output.decode(errors='replace'))
    return os.waitstatus_to_exitcode(status)


if __name__ == '__main__':
    sys.exit(main())
