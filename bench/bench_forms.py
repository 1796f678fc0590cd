"""Generated-form page vs the same form written by hand vs hello-world, over HTTP.

Serves bench/forms_app.py with gunicorn (2 sync workers, loopback), drives each
case with wrk, twice interleaved, keeps the better run, prints a markdown table
and the ratios. Prints numbers, asserts nothing.

Run: .venv/bin/python bench/bench_forms.py [--seconds 10] [--markdown PATH]

``--inprocess`` instead times the same requests through Flask's test client in
this process (CPU time, ``time.process_time``, best of ``--rounds`` rounds of
``--requests`` requests per case): steadier than wrk on a shared machine.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.forms_app import VALID_POST

WRK = "/usr/bin/wrk"
THREADS, CONNECTIONS, WORKERS = 2, 16, 2
# (name, path, method)
CASES = [
    ("hello GET", "/hello", "GET"),
    ("generated GET", "/generated", "GET"),
    ("handwritten GET", "/handwritten", "GET"),
    ("generated POST", "/generated", "POST"),
    ("handwritten POST", "/handwritten", "POST"),
]
UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(port: int) -> subprocess.Popen[bytes]:
    command = [
        str(ROOT / ".venv" / "bin" / "gunicorn"),
        "-w",
        str(WORKERS),
        "-b",
        f"127.0.0.1:{port}",
        "--graceful-timeout",
        "5",
        "--log-level",
        "warning",
        "bench.forms_app:create_app()",
    ]
    # Own session: stopping it reaches the workers even if the master hangs.
    return subprocess.Popen(command, cwd=ROOT, start_new_session=True)


def wait_until_up(base: str, server: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"gunicorn exited with {server.returncode}")
        try:
            with urllib.request.urlopen(base + "/hello", timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("gunicorn did not answer within 30 s")


def stop_server(server: subprocess.Popen[bytes]) -> None:
    if server.poll() is None:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(timeout=5)


def fetch(base: str, path: str, body: bytes | None = None) -> tuple[int, str]:
    headers = {"Content-Type": "application/x-www-form-urlencoded"} if body else {}
    request = urllib.request.Request(base + path, data=body, headers=headers)
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status, response.read().decode()


def sanity(base: str, body: bytes) -> list[str]:
    """One request per case: status, size, and whether both POSTs saved the same answers."""
    notes, answers = [], {}
    for name, path, method in CASES:
        status, html = fetch(base, path, body if method == "POST" else None)
        errors = html.count('class="field-error"')
        notes.append(f"{name}: HTTP {status}, {len(html.encode())} bytes, {errors} field errors")
        if method == "POST":
            found = re.search(r'<pre id="answers">(.*?)</pre>', html, re.DOTALL)
            answers[path] = json.loads(found[1]) if found else None
    same = answers["/generated"] is not None and answers["/generated"] == answers["/handwritten"]
    notes.append(f"both POSTs valid with identical answers: {'yes' if same else 'NO'}")
    return notes


def post_script(body: bytes, directory: str) -> str:
    path = Path(directory) / "post.lua"
    path.write_text(
        'wrk.method = "POST"\n'
        f"wrk.body = {json.dumps(body.decode())}\n"
        'wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"\n'
    )
    return str(path)


def run_wrk(url: str, seconds: int, script: str | None) -> dict[str, Any]:
    command = [WRK, f"-t{THREADS}", f"-c{CONNECTIONS}", f"-d{seconds}s", "--latency"]
    if script:
        command += ["-s", script]
    out = subprocess.run(
        command + [url], capture_output=True, text=True, timeout=seconds + 30, check=False
    ).stdout
    return parse_wrk(out)


def parse_wrk(out: str) -> dict[str, Any]:
    def latency(pct: str) -> float:
        match = re.search(rf"^\s*{pct}%\s+([\d.]+)(us|ms|s)\s*$", out, re.MULTILINE)
        return float(match[1]) * UNITS[match[2]] if match else float("nan")

    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errors = re.search(r"Socket errors:.*", out)
    return {
        "rps": float(rps[1]) if rps else 0.0,
        "p50": latency("50"),
        "p99": latency("99"),
        "non2xx": int(non2xx[1]) if non2xx else 0,
        "socket_errors": errors[0] if errors else "",
    }


def machine() -> str:
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} CPUs ({model}), Python {platform.python_version()}"


def load_average() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "n/a"


def markdown(best: dict[str, dict[str, Any]], seconds: int, notes: list[str]) -> str:
    today = datetime.date.today().isoformat()
    lines = [
        f"Measured {today} on {machine()}; wrk and gunicorn share these CPUs.",
        f"Load average before / after: {notes.pop()}.",
        (
            f"`wrk -t{THREADS} -c{CONNECTIONS} -d{seconds}s --latency` against "
            f"`gunicorn -w {WORKERS}` (sync workers) on 127.0.0.1; each case run twice, "
            "interleaved, the better run kept."
        ),
        "",
        "| case | req/s | p50 (ms) | p99 (ms) | non-2xx |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, _, _ in CASES:
        r = best[name]
        lines.append(
            f"| {name} | {r['rps']:.0f} | {r['p50']:.2f} | {r['p99']:.2f} | {r['non2xx']} |"
        )
    lines += ["", "| ratio (req/s) | value |", "|---|---:|"]
    for method in ("GET", "POST"):
        gen, hand = best[f"generated {method}"]["rps"], best[f"handwritten {method}"]["rps"]
        lines.append(f"| generated / handwritten {method} | {_ratio(gen, hand)} |")
    hello = best["hello GET"]["rps"]
    for name, _, _ in CASES[1:]:
        lines.append(f"| {name} / hello | {_ratio(best[name]['rps'], hello)} |")
    lines += ["", "Sanity check before the runs:", ""] + [f"- {note}" for note in notes]
    return "\n".join(lines) + "\n"


def _ratio(a: float, b: float) -> str:
    return f"{a / b:.0%}" if b else "n/a"


def inprocess(requests: int, rounds: int) -> str:
    """CPU ms per request for each case through the Flask test client, and the ratios."""
    from bench.forms_app import create_app

    client = create_app().test_client()
    post = urllib.parse.urlencode(VALID_POST)
    headers = {"Content-Type": "application/x-www-form-urlencoded"}

    def one(path: str, method: str) -> None:
        response = (
            client.post(path, data=post, headers=headers) if method == "POST" else client.get(path)
        )
        assert response.status_code == 200, (path, response.status_code)

    for _, path, method in CASES * 20:  # warm caches and templates
        one(path, method)
    best = {name: float("inf") for name, _, _ in CASES}
    for _ in range(rounds):
        for name, path, method in CASES:  # interleaved, like the wrk runs
            start = time.process_time()
            for _ in range(requests):
                one(path, method)
            best[name] = min(best[name], (time.process_time() - start) * 1e3 / requests)
    lines = [
        (
            f"In-process CPU time per request (Flask test client, best of {rounds} x "
            f"{requests}), {datetime.date.today().isoformat()}, {machine()}."
        ),
        "",
        "| case | CPU ms/request |",
        "|---|---:|",
    ]
    lines += [f"| {name} | {best[name]:.2f} |" for name, _, _ in CASES]
    lines += ["", "| ratio (requests per CPU second) | value |", "|---|---:|"]
    for method in ("GET", "POST"):
        gen, hand = best[f"generated {method}"], best[f"handwritten {method}"]
        lines.append(f"| generated / handwritten {method} | {_ratio(hand, gen)} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10, help="duration of each wrk run")
    parser.add_argument("--markdown", type=Path, help="also write the results to this file")
    parser.add_argument(
        "--inprocess",
        action="store_true",
        help="time requests through the Flask test client instead of wrk",
    )
    parser.add_argument("--requests", type=int, default=300, help="--inprocess: requests per round")
    parser.add_argument("--rounds", type=int, default=5, help="--inprocess: rounds per case")
    args = parser.parse_args()
    if args.inprocess:
        report = inprocess(args.requests, args.rounds)
        print(report)
        if args.markdown:
            args.markdown.write_text(report)
        return

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    body = urllib.parse.urlencode(VALID_POST).encode()
    before = load_average()
    server = start_server(port)
    try:
        wait_until_up(base, server)
        notes = sanity(base, body)
        for _, path, method in CASES * 20:  # warm both workers' caches and templates
            fetch(base, path, body if method == "POST" else None)
        best: dict[str, dict[str, Any]] = {}
        with tempfile.TemporaryDirectory() as tmp:
            script = post_script(body, tmp)
            for round_no in (1, 2):
                for name, path, method in CASES:
                    result = run_wrk(
                        base + path, args.seconds, script if method == "POST" else None
                    )
                    print(
                        f"round {round_no} {name}: {result['rps']:.0f} req/s, "
                        f"p50 {result['p50']:.2f} ms, p99 {result['p99']:.2f} ms"
                        + (f", {result['socket_errors']}" if result["socket_errors"] else ""),
                        file=sys.stderr,
                    )
                    if name not in best or result["rps"] > best[name]["rps"]:
                        best[name] = result
    finally:
        stop_server(server)
    notes.append(f"{before} / {load_average()}")
    report = markdown(best, args.seconds, notes)
    print(report)
    if args.markdown:
        args.markdown.write_text(report)


if __name__ == "__main__":
    main()
