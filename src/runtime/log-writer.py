"""berth's log writer: the container output of a background container started outside systemd.

Usage: python3 log-writer.py LOGFILE -- CRUN_ARGV...

Runs CRUN_ARGV (`crun run` in the foreground) with its stdout and stderr on pipes and appends
each piece of output to LOGFILE in Podman's k8s-file format, one record a line:
    2026-11-27T22:40:01.123456789Z stdout F a complete line
    2026-11-27T22:40:01.200000000Z stderr P a piece without its newline yet
so that `berth logs --since/--until/-t` know when each line was written (src/runtime/logs.ts
reads it). Exits with crun's status, which is the container's.

Why a process at all: timestamps need someone reading every line (Podman's conmon does it).
Why Python: it ships in Debian (python3, also needed by console-relay.py), reads two pipes with
select() and writes each record with one write(); it lives as long as the container, beside the
monitor's sh and `crun run`: about 8.5 MB resident, measured (python3 -I -S itself is 7.6 MB;
the subprocess module would add 2 MB, hence fork/exec by hand; perl would be 6.3 MB; Podman's
conmon 2 MB). Only containers started outside systemd have it: under systemd the journal
timestamps the output and nothing of berth stays resident.
"""
import os
import select
import sys
import time


def stamp():
    ns = time.time_ns()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ns // 1_000_000_000)) + ".%09dZ" % (ns % 1_000_000_000)


def records(stream, data):
    """k8s-file records for one chunk: complete lines are F, a trailing piece is P."""
    now = stamp()
    lines = data.split(b"\n")
    out = [b"%s %s F %s\n" % (now.encode(), stream, line) for line in lines[:-1]]
    if lines[-1]:
        out.append(b"%s %s P %s\n" % (now.encode(), stream, lines[-1]))
    return b"".join(out)


def main():
    argv = sys.argv[1:]
    if len(argv) < 3 or argv[1] != "--":
        sys.stderr.write("log-writer: usage: LOGFILE -- COMMAND...\n")
        sys.exit(125)
    log = os.open(argv[0], os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o640)
    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            null = os.open("/dev/null", os.O_RDONLY)
            os.dup2(null, 0)
            os.dup2(out_w, 1)
            os.dup2(err_w, 2)
            for fd in (null, out_r, out_w, err_r, err_w):
                os.close(fd)
            os.execvp(argv[2], argv[2:])
        finally:
            os._exit(127)
    os.close(out_w)
    os.close(err_w)
    streams = {out_r: b"stdout", err_r: b"stderr"}
    while streams:
        ready, _, _ = select.select(list(streams), [], [])
        for fd in ready:
            data = os.read(fd, 65536)
            if data:
                os.write(log, records(streams[fd], data))
            else:
                del streams[fd]
    status = os.waitpid(pid, 0)[1]
    sys.exit(os.waitstatus_to_exitcode(status) % 256 if os.WIFEXITED(status) else 128 + os.WTERMSIG(status))


if __name__ == "__main__":
    main()
