#!/usr/bin/env python3
"""A burst of N concurrent sync calls: log in once, then N threads POST the same lowstate at one signal.

Prints one line: answered (200), refused (503), other statuses, connection errors, and the seconds until the
last answer. Usage: burst.py BASE_URL N EAUTH USER PASSWORD [SECONDS]
"""
import collections, json, sys, threading, time, urllib.error, urllib.request

base, n, eauth, user, password = sys.argv[1].rstrip("/"), int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
seconds = int(sys.argv[6]) if len(sys.argv) > 6 else 3
hdr = {"Content-Type": "application/json", "Accept": "application/json"}
login = urllib.request.Request(base + "/login", data=json.dumps({"eauth": eauth, "username": user, "password": password}).encode(), headers=hdr)
token = json.load(urllib.request.urlopen(login, timeout=60))["return"][0]["token"]
body = json.dumps([{"client": "local", "tgt": "*", "fun": "test.sleep", "arg": [seconds]}]).encode()
results, lock, go = collections.Counter(), threading.Lock(), threading.Event()

def one():
    req = urllib.request.Request(base + "/", data=body, headers=dict(hdr, **{"X-Auth-Token": token}))
    go.wait()
    try:
        with urllib.request.urlopen(req, timeout=300) as r:
            r.read()
            key = r.status
    except urllib.error.HTTPError as e:
        key = e.code
    except Exception as e:  # reset, refused, timeout
        key = type(e).__name__
    with lock:
        results[key] += 1

threads = [threading.Thread(target=one) for _ in range(n)]
for t in threads:
    t.start()
time.sleep(1)
start = time.time()
go.set()
for t in threads:
    t.join()
print(json.dumps({"answered": results.pop(200, 0), "refused_503": results.pop(503, 0), "other": dict(results), "seconds": round(time.time() - start, 1)}))
