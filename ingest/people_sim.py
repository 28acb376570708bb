"""The simulator plays the people of a township: assignees accept, verify, handle and submit with photos they upload;
the dispatcher checks, closes and decides extensions. Each signs in as their own (demo) account and issues every
command over `POST /api/v1/cases/{id}/commands`; what happens to a case is drawn from a seeded table
(ingest/people_plan.py). Settings: GRID_SIMULATOR_* (PeopleSettings)."""

from __future__ import annotations

import logging
import struct
import time
import uuid
import zlib
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from pydantic_settings import BaseSettings, SettingsConfigDict

from ingest.people_plan import OUTCOMES, Memory, Move, Wait, actors_of, delay_for, next_move, outcome_for

log = logging.getLogger("simulator.people")
RETRY_SECONDS = 120.0
PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"


class PeopleSettings(BaseSettings):
    """GRID_SIMULATOR_* variables: what the simulator does and how fast."""

    model_config = SettingsConfigDict(env_prefix="GRID_SIMULATOR_")

    events: bool = True
    """Post events (the grid workers' reports)."""
    people: bool = True
    """Play the people of the township: assignees and its dispatcher."""
    dispatcher: str = "dispatcher"
    """The account of the township's dispatcher; the township played is theirs."""
    people_password: str = "grid-demo"
    """The demo password of the accounts of the people played."""
    step_seconds_min: float = 10.0
    step_seconds_max: float = 60.0
    """How long a person takes before the next step (uniform, seeded per case and step)."""
    poll_seconds: float = 5.0
    """How often the dispatcher's list of open cases is read."""
    actions_per_second: float = 2.0
    """At most this many commands a second, over all people."""
    overdue_linger_seconds: float = 300.0
    """An overdue case's assignee takes it up once it is supervised (督办) and this long past its deadline..."""
    overdue_grace_seconds: float = 1800.0
    """...or this long past its deadline if the clock never supervises it."""
    outcomes: dict[str, float] = OUTCOMES
    """Weights of the outcomes: on_time, overdue, rework, extension."""
    seed: int = 7
    event_rate: float = 0.1
    """Events a second while the people are played (the --rate of the simulator when it plays nobody)."""


class Sessions:
    """Signed-in people: a token per account, got by the OAuth2 password flow, refreshed, and retried after 429."""

    def __init__(self, client: httpx.Client, password: str) -> None:
        self.client, self.password = client, password
        self.tokens: dict[str, tuple[str, str]] = {}
        self.names: dict[str, str] = {}

    def username(self, person: str) -> str:
        """The account of a person: a per-role demo name learnt at sign-in, else the person's id."""
        return self.names.get(person, person)

    def sign_in(self, username: str) -> dict[str, Any]:
        """Sign in (waiting out 429 and 503); returns the user, and remembers their person's account name."""
        reply = self._retrying("/api/v1/auth/token", {"username": username, "password": self.password}, form=True)
        if reply.status_code != 200:
            raise PermissionError(f"sign-in as {username} refused: {reply.status_code} {reply.text[:200]}")
        body: dict[str, Any] = reply.json()
        self.tokens[username] = (body["access_token"], body["refresh_token"])
        if body["user"].get("person_id"):
            self.names[body["user"]["person_id"]] = username
        return dict(body["user"])

    def request(self, username: str, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """A request with the account's token; on 401, refresh (or sign in again) and resend once."""
        if username not in self.tokens:
            self.sign_in(username)
        reply = self._send(username, method, path, **kwargs)
        if reply.status_code == 401:
            refreshed = self._retrying("/api/v1/auth/refresh", {"refresh_token": self.tokens[username][1]})
            if refreshed.status_code == 200:
                self.tokens[username] = (refreshed.json()["access_token"], refreshed.json()["refresh_token"])
            else:
                self.sign_in(username)
            reply = self._send(username, method, path, **kwargs)
        return reply

    def _send(self, username: str, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {**kwargs.pop("headers", {}), "Authorization": f"Bearer {self.tokens[username][0]}"}
        for attempt in range(6):
            reply = self.client.request(method, path, headers=headers, **kwargs)
            if reply.status_code not in (429, 503):
                return reply
            time.sleep(_retry_after(reply, attempt))
        return reply

    def _retrying(self, path: str, data: dict[str, str], form: bool = False) -> httpx.Response:
        for attempt in range(8):
            reply = self.client.post(path, data=data) if form else self.client.post(path, json=data)
            if reply.status_code not in (429, 503):
                return reply
            time.sleep(_retry_after(reply, attempt))
        return reply


def _retry_after(reply: httpx.Response, attempt: int) -> float:
    raw = reply.headers.get("Retry-After", "")
    return float(raw) if raw.replace(".", "", 1).isdigit() else min(60.0, 2.0**attempt)


def photo(note: str) -> bytes:
    """A small valid PNG, different for each `note` (a tEXt chunk)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + b"".join(bytes((x * 30 % 256, y * 50 % 256, 90)) for x in range(8)) for y in range(6))
    header = struct.pack(">IIBBBBB", 8, 6, 8, 2, 0, 0, 0)
    text = chunk(b"tEXt", b"Comment\x00" + note.encode())
    idat = chunk(b"IDAT", zlib.compress(rows))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + text + idat + chunk(b"IEND", b"")


class People:
    """The loop: read the township's open cases as its dispatcher, and have the person whose turn it is act."""

    def __init__(self, client: httpx.Client, settings: PeopleSettings) -> None:
        self.settings = settings
        self.sessions = Sessions(client, settings.people_password)
        self.memory = Memory()
        self.ready: dict[tuple[str, int], float] = {}
        self.last_action = 0.0
        me = self.sessions.sign_in(settings.dispatcher)
        self.township: str = me["unit_code"]
        self.dispatcher_person: str = me["person_id"]
        for name in ("officer", "officer2", "agency", "duty", "worker"):
            try:
                self.sessions.sign_in(name)
            except PermissionError as exc:
                log.info("no %s account: %s", name, exc)

    def open_cases(self) -> list[dict[str, Any]]:
        """The township's open cases, newest first, as its dispatcher sees them."""
        params: dict[str, Any] = {"open_only": True, "township": self.township, "limit": 2000}
        reply = self.sessions.request(self.settings.dispatcher, "GET", "/api/v1/cases", params=params)
        reply.raise_for_status()
        cases: list[dict[str, Any]] = reply.json()
        return cases

    def round(self) -> int:
        """One pass over the open cases; returns how many commands were issued."""
        now = datetime.now(UTC)
        grace = timedelta(seconds=self.settings.overdue_grace_seconds)
        linger = timedelta(seconds=self.settings.overdue_linger_seconds)
        issued = 0
        cases = self.open_cases()
        live = {(str(c["id"]), c["version"]) for c in cases}
        self.ready = {key: at for key, at in self.ready.items() if key in live}
        for case in reversed(cases):  # oldest first
            cid, s = str(case["id"]), self.settings
            outcome = outcome_for(cid, s.seed, s.outcomes)
            move = next_move(case, outcome, now, grace, self.memory, s.seed, linger)
            if move is None or isinstance(move, Wait):
                continue
            at = self.ready.setdefault(
                (cid, case["version"]),
                time.monotonic() + delay_for(cid, case["version"], s.seed, s.step_seconds_min, s.step_seconds_max),
            )
            if time.monotonic() < at:
                continue
            if self.act(case, move, outcome.value):
                issued += 1
            else:  # refused, or the person could not sign in: try again later, not every round
                self.ready[(cid, case["version"])] = time.monotonic() + RETRY_SECONDS
        return issued

    def act(self, case: dict[str, Any], move: Move, outcome: str) -> bool:
        """Issue the move as its person, uploading the evidence it cites; False when it could not be issued."""
        self._pace()
        person, partner = actors_of(case["assignee"]) if move.who != "dispatcher" else (self.dispatcher_person, None)
        account = self.sessions.username(person)
        body = dict(move.body)
        try:
            if move.evidence:
                body["evidence"] = [self._upload(account, kind, case["id"]) for kind in move.evidence]
            if move.officers:
                body["officers"] = [person, partner]
            path = f"/api/v1/cases/{case['id']}/commands"
            once = {"Idempotency-Key": str(uuid.uuid4())}
            reply = self.sessions.request(account, "POST", path, json=body, headers=once)
        except (PermissionError, httpx.HTTPError) as exc:
            log.warning("%s on %s as %s failed: %s", body["kind"], case["id"], account, exc)
            return False
        log.info("%s %s %s (%s) → %s", account, body["kind"], case["id"], outcome, reply.status_code)
        if reply.status_code >= 400:
            log.warning("refused: %s", reply.text[:300])
        else:
            self.memory.issued(str(case["id"]), move)
        return reply.status_code < 400

    def _upload(self, account: str, kind: str, case_id: str) -> dict[str, str]:
        data, ctype = (photo(f"{case_id}:{uuid.uuid4()}"), "image/png") if kind == "photo" else (PDF, "application/pdf")
        if kind != "photo":
            data = data + f"% {uuid.uuid4()}\n".encode()
        reply = self.sessions.request(account, "POST", "/api/v1/media", content=data, headers={"Content-Type": ctype})
        reply.raise_for_status()
        return {"sha256": reply.json()["sha256"], "kind": kind}

    def _pace(self) -> None:
        gap = 1.0 / max(self.settings.actions_per_second, 0.01)
        wait = self.last_action + gap - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        self.last_action = time.monotonic()


def play(url: str, settings: PeopleSettings) -> None:
    """Play the people until interrupted."""
    with httpx.Client(base_url=url, timeout=30) as client:
        people = People(client, settings)
        log.info("playing the people of township %s as %s and its assignees", people.township, settings.dispatcher)
        while True:
            try:
                people.round()
            except (httpx.HTTPError, PermissionError) as exc:
                log.warning("round failed, will go on: %s", exc)
            time.sleep(settings.poll_seconds)
