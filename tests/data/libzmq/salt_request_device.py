#!/usr/bin/env python3
"""Salt's ZeroMQ request server in miniature, on real libzmq (Debian's python3-zmq).

As salt/transport/zeromq.py RequestServer: a ROUTER bound for the clients, a zmq QUEUE device to a
DEALER, and REP workers behind it (post_fork) that read the first frame after the envelope
(decode_payload: payload[0]) and send one reply frame, which REP puts under the request's envelope.
Each worker echoes the request payload back, worker i after i * 3 ms, so replies overtake each other.

Prints the ROUTER's port, then serves until its standard input closes.
"""
import sys
import threading
import time

import zmq

ctx = zmq.Context()
clients = ctx.socket(zmq.ROUTER)
clients.setsockopt(zmq.LINGER, 0)
port = clients.bind_to_random_port("tcp://127.0.0.1")
workers = ctx.socket(zmq.DEALER)
workers.setsockopt(zmq.LINGER, 0)
workers.bind("inproc://workers")


def worker(index):
    rep = ctx.socket(zmq.REP)
    rep.setsockopt(zmq.LINGER, 0)
    rep.connect("inproc://workers")
    while True:
        try:
            frames = rep.recv_multipart()
        except zmq.ContextTerminated:
            return
        time.sleep(0.003 * index)
        rep.send(frames[0])


for i in range(5):
    threading.Thread(target=worker, args=(i,), daemon=True).start()


def device():
    try:
        zmq.proxy(clients, workers)
    except zmq.ContextTerminated:
        pass


threading.Thread(target=device, daemon=True).start()
print(port, flush=True)
sys.stdin.read()
