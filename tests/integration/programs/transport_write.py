# node/lib/transport.py's Conn.write in the real MicroPython interpreter, over a real loopback socket.
# Usage: micropython transport_write.py PORT   (MICROPYPATH: node/lib, .frozen). Prints result lines.
import micropython
import socket
import sys
import time

from transport import Conn

addr = socket.getaddrinfo("127.0.0.1", int(sys.argv[1]))[0][-1]
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(addr)
srv.listen(1)
cli = socket.socket()
cli.connect(addr)
peer, _ = srv.accept()
cli.setblocking(False)
conn = Conn(cli, 300)



def whole():
    # The usual case: the socket takes each piece at once; `n` is honoured; nothing is allocated.
    head = bytearray(b"\x32\x10\x00\x00")
    conn.write(head, 2)
    conn.write(b"topic")
    time.sleep_ms(50)
    peer.recv(100)
    before = micropython.mem_total()
    k1 = conn.write(head, 2)
    k2 = conn.write(b"topic")
    k3 = conn.write(head, 9)            # more than it has: what it has
    alloc = micropython.mem_total() - before
    time.sleep_ms(50)
    print("whole", k1, k2, k3, alloc, peer.recv(100))


whole()

# A peer that stops reading: the send buffer fills, the write that cannot finish waits its timeout
# (in _write_rest, after a partial write) and gives up with ETIMEDOUT.
big = bytearray(1 << 16)
start = time.ticks_ms()
written = 0
try:
    for _ in range(2000):
        written += conn.write(big)
    print("stalled never")
except OSError as e:
    print("stalled", e.args[0], time.ticks_diff(time.ticks_ms(), start), written)
for s in (cli, peer, srv):
    s.close()
