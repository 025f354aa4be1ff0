#!/usr/bin/env python3
"""Stops the main command with a SIGTERM to its whole process group (as systemd does) while six
writers post 2,000-event batches, and reports what the requests answered before and after the
signal and how long the stop took, with the app's log lines from the signal on.

    python3 bench/profile/stop-under-load.py <clone> [port=7394] [seconds of load=25]
"""
import json, os, random, re, signal, subprocess, sys, threading, time, urllib.error, urllib.request

clone = sys.argv[1] if len(sys.argv) > 1 else "."
port = int(sys.argv[2]) if len(sys.argv) > 2 else 7394
load_seconds = float(sys.argv[3]) if len(sys.argv) > 3 else 25
p = subprocess.Popen(["dotnet", "run", "--project", "tools/CrmMetrics.Demo", "-c", "Release", "--", "--urls", f"http://127.0.0.1:{port}"],
                     cwd=clone, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1, start_new_session=True)
t0 = time.time()
lines, ready = [], threading.Event()

def read():
    for line in p.stdout:
        lines.append((time.time() - t0, line.rstrip()))
        if "Admin API key for this session" in line:
            ready.set()

threading.Thread(target=read, daemon=True).start()
if not ready.wait(900):
    print("the app did not start")
    os.killpg(p.pid, signal.SIGKILL)
    sys.exit(1)
key = re.search(r"Admin API key for this session: (\S+)", "\n".join(l for _, l in lines)).group(1)
stop, acknowledged, answers, lock = threading.Event(), [0], {}, threading.Lock()

def write(writer):
    n = 0
    while not stop.is_set():
        events = []
        for _ in range(2000):
            n += 1
            d = random.randint(1, 300)
            events.append({"id": f"stop-{writer}-{n}-{int(t0)}", "type": "order", "time": f"2026-{d % 11 + 1:02d}-{d % 28 + 1:02d}T10:00:00Z",
                           "customerId": f"C{random.randint(1, 5000)}", "channel": "web", "data": {"amount": 12.5, "currency": "EUR"}})
        request = urllib.request.Request(f"http://127.0.0.1:{port}/api/events", data=json.dumps(events).encode(),
                                         headers={"Content-Type": "application/json", "x-api-key": key}, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=60) as r:
                answer = r.status
        except urllib.error.HTTPError as e:
            answer = e.code
        except Exception as e:
            answer = type(e).__name__
        with lock:
            answers[answer] = answers.get(answer, 0) + 1
            if answer == 202:
                acknowledged[0] += 2000

for w in range(6):
    threading.Thread(target=write, args=(w,), daemon=True).start()
time.sleep(load_seconds)
with lock:
    print(f"before the signal: {dict(answers)}, {acknowledged[0]} events acknowledged")
signalled = time.time()
os.killpg(p.pid, signal.SIGTERM)
p.wait(300)
print(f"exit {p.returncode} {time.time() - signalled:.1f} s after the signal")
stop.set()
time.sleep(3)
print(f"all answers: {dict(answers)}, {acknowledged[0]} events acknowledged")
for t, line in lines:
    if t >= signalled - t0 - 0.5:
        print(f"{t - (signalled - t0):7.1f} {line[:220]}")
