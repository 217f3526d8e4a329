"""
Gives a browser under test a network namespace of its own that still reaches this machine's
loopback: listens on the given ports of the namespace's own loopback (127.0.0.1 and ::1) and
forwards each connection to the same port on 127.0.0.1 outside. Chromium drops every request in
flight with ERR_NETWORK_CHANGED when an address changes on the machine, and other tests add
and remove addresses all the time (container networks, veth pairs); inside its own namespace it
sees none of that. Prints "ready <path>" once listening, <path> naming the namespace (nsenter
--net=<path> runs a program inside; a thread of this process stays in it), and runs until killed.
"""
import ctypes
import os
import socket
import subprocess
import sys
import threading

CLONE_NEWNET = 0x40000000
libc = ctypes.CDLL(None, use_errno=True)


def check(rc, what):
    if rc != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def pump(src, dst):
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            dst.sendall(data)
    except OSError:
        pass
    finally:
        for s, how in ((dst, socket.SHUT_WR), (src, socket.SHUT_RD)):
            try:
                s.shutdown(how)
            except OSError:
                pass


def serve(listener, port):
    while True:
        inner, _ = listener.accept()
        try:
            # Made by this thread, which is in the machine's namespace: it reaches the real loopback.
            outer = socket.create_connection(("127.0.0.1", port))
        except OSError:
            inner.close()
            continue
        for a, b in ((inner, outer), (outer, inner)):
            threading.Thread(target=pump, args=(a, b), daemon=True).start()


def main():
    ports = [int(p) for p in sys.argv[1:]]
    made = threading.Event()
    listeners = []
    inside = {}

    def enter():
        # unshare() moves only the calling thread: this one holds the new namespace, the others
        # (which connect out) stay in the machine's.
        try:
            setup()
        except Exception as err:  # reported by the main thread
            inside["error"] = err
            made.set()
            return
        made.set()
        threading.Event().wait()

    def setup():
        check(libc.unshare(CLONE_NEWNET), "unshare")
        subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
        for port in ports:
            for family, host in ((socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::1")):
                s = socket.socket(family, socket.SOCK_STREAM)
                s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                s.bind((host, port))
                s.listen(128)
                listeners.append((s, port))
        inside["path"] = f"/proc/{os.getpid()}/task/{threading.get_native_id()}/ns/net"

    threading.Thread(target=enter, daemon=True).start()
    if not made.wait(10) or "error" in inside:
        sys.exit(f"no network namespace: {inside.get('error', 'timed out')}")
    threads = [threading.Thread(target=serve, args=(s, port), daemon=True) for s, port in listeners]
    for t in threads:
        t.start()
    print(f"ready {inside['path']}", flush=True)
    for t in threads:
        t.join()


main()
