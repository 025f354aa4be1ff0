#!/usr/bin/env python3
"""Times the README's main command in a clone: starts it, waits for "The app is running", reads
GET /api/alerts with the session's reader key, then sends Ctrl+C to its process group and reports
the exit code and how long the stop took.

    python3 bench/profile/main-command.py <clone>     # e.g. a fresh `git clone . /tmp/x/p`
"""
import json, os, re, signal, subprocess, sys, time, urllib.request

clone = sys.argv[1] if len(sys.argv) > 1 else "."
start = time.time()
p = subprocess.Popen(["dotnet", "run", "--project", "tools/CrmMetrics.Demo", "-c", "Release"], cwd=clone,
                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
lines, ready = [], None
while time.time() < start + 900:
    line = p.stdout.readline()
    if not line:
        break
    lines.append(line.rstrip())
    print("OUT:", line.rstrip(), flush=True)
    if "The app is running" in line:
        ready = time.time() - start
        break
print("ready after", None if ready is None else round(ready, 1), "s (build included)")
text = "\n".join(lines)
key = re.search(r"[?&](?:key|code)=([A-Za-z0-9_\-]+)", text)
base = re.search(r"(http://127\.0\.0\.1:\d+)", text)
if key and base:
    try:
        request = urllib.request.Request(base.group(1) + "/api/alerts", headers={"x-api-key": key.group(1)})
        items = json.loads(urllib.request.urlopen(request, timeout=30).read().decode()).get("items", [])
        print("alerts:", len(items))
        if items:
            print("links:", json.dumps(items[0]["data"].get("links"), ensure_ascii=False))
    except Exception as e:
        print("alerts request failed:", e)
stopped = time.time()
os.killpg(p.pid, signal.SIGINT)
try:
    rest, _ = p.communicate(timeout=60)
    for line in rest.splitlines()[-5:]:
        print("OUT:", line)
except subprocess.TimeoutExpired:
    print("did not stop in 60 s")
    os.killpg(p.pid, signal.SIGKILL)
print("exit", p.returncode, "in", round(time.time() - stopped, 1), "s")
