"""berth's console relay: the terminal side of `berth exec -t` (Podman's conmon role, for one call).

Usage: python3 console-relay.py SOCKET [--stdin] -- CRUN_ARGV...

Listens on SOCKET, runs CRUN_ARGV (`crun exec --tty --console-socket SOCKET ...`, or `crun run
--console-socket SOCKET ...` for a foreground `berth run -t`), receives
the pty master crun sends over SCM_RIGHTS, then relays: the pty's output to our stdout, our stdin
to the pty (with --stdin), our terminal's size to the pty (now and on SIGWINCH), our terminal
in raw mode meanwhile; SIGTERM/SIGHUP/SIGINT go to crun. Exits with crun's exit status (the
process's), 125 when no pty came.

Why Python: Node cannot receive file descriptors over a unix socket; Python's socket.recv_fds
can, it ships in Debian (python3), and the relay lives only as long as the exec session.
"""
import os
import select
import signal
import socket
import subprocess
import sys
import termios
import tty
import fcntl


def fail(message):
    sys.stderr.write(f"Error: {message}\n")
    sys.exit(125)


def copy_window_size(master):
    for fd in (0, 1, 2):
        if os.isatty(fd):
            try:
                fcntl.ioctl(master, termios.TIOCSWINSZ, fcntl.ioctl(fd, termios.TIOCGWINSZ, b"\0" * 8))
            except OSError:
                pass
            return


def receive_master(listener, child):
    """Waits for crun to connect and send the master; None if crun exits first."""
    while True:
        ready, _, _ = select.select([listener], [], [], 0.05)
        if ready:
            conn, _ = listener.accept()
            with conn:
                _, fds, _, _ = socket.recv_fds(conn, 1024, 1)
            return fds[0] if fds else None
        if child.poll() is not None:
            return None


def write_all(fd, data):
    while data:
        data = data[os.write(fd, data):]


def relay(master, with_stdin):
    inputs = [master] + ([0] if with_stdin else [])
    while True:
        try:
            ready, _, _ = select.select(inputs, [], [])
        except InterruptedError:
            continue
        if master in ready:
            try:
                data = os.read(master, 65536)
            except OSError:  # EIO: every slave end closed, the process is gone
                return
            if not data:
                return
            write_all(1, data)
        if 0 in ready:
            data = os.read(0, 65536)
            if data:
                write_all(master, data)
            else:
                inputs.remove(0)
                if not os.isatty(0):  # piped input ended: the terminal's end-of-file
                    write_all(master, termios.tcgetattr(master)[6][termios.VEOF])


def main():
    argv = sys.argv[1:]
    if "--" not in argv:
        fail("console-relay: usage: SOCKET [--stdin] -- COMMAND...")
    split = argv.index("--")
    options, command = argv[:split], argv[split + 1:]
    path, with_stdin = options[0], "--stdin" in options[1:]
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(1)
    child = subprocess.Popen(command, stdin=subprocess.DEVNULL)
    # Termination requests are crun's to pass on to the process; the relay ends when it does.
    for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
        signal.signal(sig, lambda number, _frame: child.send_signal(number))
    master = receive_master(listener, child)
    listener.close()
    os.unlink(path)
    if master is None:
        sys.exit(child.wait() or 125)
    # Our terminal passes the pty's bytes through untouched (the pty already turned \n into \r\n):
    # raw with --stdin (keys, ^C included, go to the process); else only output processing off,
    # so ^C still interrupts berth.
    term = 0 if with_stdin and os.isatty(0) else 1 if os.isatty(1) else None
    saved = termios.tcgetattr(term) if term is not None else None
    signal.signal(signal.SIGWINCH, lambda *_: copy_window_size(master))
    copy_window_size(master)
    try:
        if term == 0:
            tty.setraw(0, termios.TCSANOW)  # keep what was typed ahead
        elif term == 1:
            attrs = termios.tcgetattr(1)
            attrs[1] &= ~termios.OPOST
            termios.tcsetattr(1, termios.TCSANOW, attrs)
        relay(master, with_stdin)
    finally:
        if saved is not None:
            termios.tcsetattr(term, termios.TCSADRAIN, saved)
    os.close(master)
    code = child.wait()
    sys.exit(128 - code if code < 0 else code)


if __name__ == "__main__":
    main()
