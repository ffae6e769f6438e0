"""pynng peer for the Swift Transport interop tests.

Usage:
  interop.py client URL COUNT   REQ: send COUNT payloads, expect each reversed back
  interop.py server URL         REP: reply with each payload reversed until b"quit"

Payloads are never empty: pynng's recv() crashes on an empty message, and
recv_msg() is used throughout anyway.
"""
import random
import sys

import pynng


def payload(index: int) -> bytes:
    rng = random.Random(index)
    size = 1 + rng.randrange(0, 6000) if index % 10 else 1 << 20
    return rng.randbytes(size)


def client(url: str, count: int) -> int:
    with pynng.Req0(recv_timeout=60000, send_timeout=60000, recv_max_size=32 << 20) as sock:
        sock.dial(url, block=False)
        for index in range(count):
            request = payload(index)
            sock.send(request)
            reply = sock.recv_msg().bytes
            if reply != request[::-1]:
                print(f"mismatch at {index}: sent {len(request)} bytes, got {len(reply)}", file=sys.stderr)
                return 1
    print(f"ok {count}")
    return 0


def server(url: str) -> int:
    served = 0
    with pynng.Rep0(recv_timeout=60000, send_timeout=60000, recv_max_size=32 << 20) as sock:
        sock.listen(url)
        while True:
            request = sock.recv_msg().bytes
            if request == b"quit":
                sock.send(b"bye")
                break
            sock.send(request[::-1])
            served += 1
    print(f"served {served}")
    return 0


if __name__ == "__main__":
    mode = sys.argv[1]
    if mode == "client":
        sys.exit(client(sys.argv[2], int(sys.argv[3])))
    if mode == "server":
        sys.exit(server(sys.argv[2]))
    sys.exit(f"unknown mode {mode}")
