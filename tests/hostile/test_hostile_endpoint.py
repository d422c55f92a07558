"""The CLI against a hostile ARM endpoint: the token stays on the configured origin, loops and waits are bounded
and said, a huge error stays readable, and what an answer echoes of the token is masked."""

from __future__ import annotations

import io
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cli.main import main
from core.azure.backend import AzureBackend
from core.config import StaticTokenCredential
from core.emulator import EmulatorResponse
from tests.hostile.server import PLANTED, TOKEN, Hostile, Request, answer, hostile, with_json

pytestmark = pytest.mark.server


@pytest.fixture
def rig(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Hostile]:
    with hostile(tmp_path) as server:
        for key, value in server.env().items():
            monkeypatch.setenv(key, value)
        yield server


@pytest.fixture
def slept(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The transport's sleeps (retry waits), recorded instead of slept: a test never waits a day."""
    from azure.core.pipeline.transport import RequestsTransport

    waits: list[float] = []
    monkeypatch.setattr(RequestsTransport, "sleep", lambda self, duration: waits.append(duration))
    return waits


def cli(rig: Hostile, *argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), clock=rig.clock, config_path=Path("/nonexistent"), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def journal_records() -> list[dict[str, Any]]:
    journal = Path(os.environ["XDG_STATE_HOME"]) / "avs-failback" / "journal.jsonl"
    return [json.loads(line) for line in journal.read_text(encoding="utf-8").splitlines()]


def said(text: str) -> str:
    """What was written, as one line: the CLI wraps its prose at 80 columns."""
    return " ".join(text.split())


def first_list(suffix: str, change: Any) -> Any:
    """A rewrite that changes the first answer of the list ending in `suffix` (once)."""
    done: list[bool] = []

    def rewrite(request: Request, response: EmulatorResponse) -> EmulatorResponse:
        path = request.path.split("?")[0]
        if request.method == "GET" and path.endswith(suffix) and not done:
            done.append(True)
            return change(request, response)
        return response

    return rewrite


def next_link_to(url: str) -> Any:
    def change(request: Request, response: EmulatorResponse) -> EmulatorResponse:
        return with_json(response, lambda body: body.update(nextLink=url + request.path.split("?")[0] + "?page=2"))

    return change


LISTS = [
    pytest.param(("items",), "/replicationProtectedItems", id="items-raw-pages"),
    pytest.param(("plans",), "/replicationRecoveryPlans", id="plans-raw-pages"),
    pytest.param(("preflight", "--all"), "/replicationFabrics", id="fabrics-raw-pages"),
    pytest.param(("jobs",), "/replicationJobs", id="jobs-sdk-pager"),
    pytest.param(("points", "web-01"), "/recoveryPoints", id="points-sdk-pager"),
]


@pytest.mark.parametrize(("argv", "suffix"), LISTS)
def test_a_next_link_to_another_host_gets_no_token_and_is_not_believed(
    rig: Hostile, argv: tuple[str, ...], suffix: str
) -> None:
    rig.rewrite = first_list(suffix, next_link_to(rig.other.url))
    code, out, err = cli(rig, *argv)
    assert code == 3, err
    assert "not the configured ARM endpoint" in said(err) and rig.other.url in said(err)
    assert rig.other.seen == [], "nothing at all was sent to the other origin"
    assert PLANTED not in out and TOKEN not in out + err


def test_a_redirect_to_another_host_is_neither_followed_nor_believed(rig: Hostile) -> None:
    elsewhere = answer(307, {"Location": f"{rig.other.url}/redirected"})
    rig.rewrite = first_list("/replicationProtectedItems", lambda request, response: elsewhere)
    code, out, err = cli(rig, "items")
    assert code == 3, err
    assert "A redirect from ARM" in said(err) and "not the configured ARM endpoint" in said(err)
    assert rig.other.seen == [] and PLANTED not in out


def test_a_redirect_on_the_same_host_is_followed(rig: Hostile) -> None:
    def move(request: Request, response: EmulatorResponse) -> EmulatorResponse:
        return answer(307, {"Location": rig.front.url + request.path})

    rig.rewrite = first_list("/replicationProtectedItems", move)
    code, out, err = cli(rig, "items")
    assert code == 0, err
    assert "web-01" in out


@pytest.mark.parametrize(
    ("argv", "suffix"), [(("items",), "/replicationProtectedItems"), (("jobs",), "/replicationJobs")]
)
def test_a_next_link_that_repeats_itself_stops_at_once(rig: Hostile, argv: tuple[str, ...], suffix: str) -> None:
    def loop(request: Request, response: EmulatorResponse) -> EmulatorResponse:
        if request.method == "GET" and request.path.split("?")[0].endswith(suffix):
            return with_json(response, lambda body: body.update(nextLink=rig.front.url + request.path))
        return response

    rig.rewrite = loop
    code, out, err = cli(rig, *argv)
    assert code == 3, err
    assert "already sent as its next page" in said(err)
    asked = [s for s in rig.front.seen if s.path.split("?")[0].endswith(suffix)]
    assert len(asked) <= 3, f"{len(asked)} requests for one list"


def test_a_retry_after_of_a_day_is_refused_at_once_and_said(rig: Hostile, slept: list[float]) -> None:
    throttled = answer(429, {"Retry-After": "86400"}, {"error": {"code": "TooManyRequests", "message": "slow down"}})
    rig.rewrite = lambda request, response: throttled if request.method == "GET" else response
    code, out, err = cli(rig, "items")
    assert code == 3, err
    assert "asks the tool to wait 86400 s" in said(err) and "it waits at most 120 s" in said(err)
    assert all(wait <= 120 for wait in slept), slept


def test_each_wait_is_said_before_it_starts(rig: Hostile, slept: list[float]) -> None:
    throttled = answer(429, {"Retry-After": "2"}, {"error": {"code": "TooManyRequests", "message": "slow down"}})
    rig.rewrite = first_list("/replicationProtectedItems", lambda request, response: throttled)
    code, out, err = cli(rig, "items")
    assert code == 0, err
    assert "note: Azure answered HTTP 429 (throttled) and asks to wait 2 s: waiting (attempt 2 of 4)." in said(err)
    assert slept == [2.0]


def test_a_slow_answer_says_what_the_tool_waits_for(rig: Hostile) -> None:
    def slow(request: Request, response: EmulatorResponse) -> EmulatorResponse:
        response.delay = 1.0
        return response

    rig.rewrite = first_list("/replicationProtectedItems", slow)
    backend = AzureBackend(
        rig.emulator.vault,
        StaticTokenCredential(TOKEN),
        arm_endpoint=rig.front.url,
        ca_bundle=str(rig.ca_file),
        client_kwargs={"read_timeout": 0.2, "retry_backoff_factor": 0.01},
    )
    notes: list[str] = []
    backend.on_notice = notes.append
    assert [i.friendly_name for i in backend.list_items() if i.friendly_name == "web-01"]
    assert any(n.startswith("No answer from Azure (") and "trying again in" in n for n in notes), notes


def test_a_huge_error_message_is_capped_on_screen(rig: Hostile) -> None:
    text = "\n".join(f"detail line {n} of a broken proxy page" for n in range(150_000))  # about 5 MB
    huge = answer(400, {}, {"error": {"code": "BadRequest", "message": text}})
    rig.rewrite = first_list("/replicationProtectedItems", lambda request, response: huge)
    code, out, err = cli(rig, "items")
    assert code == 3
    assert len(err) < 6000 and err.count("\n") < 40
    assert "more characters not shown" in said(err) and "detail line 0 " in said(err)


def test_a_huge_refusal_is_capped_on_screen_and_whole_in_the_journal(rig: Hostile) -> None:
    text = "x" * 3_000_000
    huge = answer(400, {}, {"error": {"code": "BadRequest", "message": text}})
    rig.rewrite = lambda request, response: huge if request.method == "POST" else response
    code, out, err = cli(rig, "plan-failover", "rp-shop", "--point", "latest", "--yes", "--skip-preflight")
    assert code == 3 and len(err) < 6000
    refused = [r for r in journal_records() if r["kind"] == "refused"]
    assert refused and text in refused[0]["error"]["message"]


def test_an_echoed_token_is_masked_in_the_error(rig: Hostile) -> None:
    def echo(request: Request, response: EmulatorResponse) -> EmulatorResponse:
        seen = request.headers.get("Authorization", "")
        return answer(400, {}, {"error": {"code": "BadHeader", "message": f"The header '{seen}' is malformed."}})

    rig.rewrite = first_list("/replicationProtectedItems", echo)
    code, out, err = cli(rig, "items")
    assert code == 3
    assert TOKEN not in err and "Bearer <hidden>" in said(err)


def test_a_token_with_a_trailing_newline_is_used_without_it(rig: Hostile, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AVS_FAILBACK_ACCESS_TOKEN", TOKEN + "\n")
    code, out, err = cli(rig, "items")
    assert code == 0, err
    assert TOKEN not in err
    assert {s.authorization for s in rig.front.seen} == {f"Bearer {TOKEN}"}


def test_a_token_with_a_control_character_is_refused_without_being_echoed(
    rig: Hostile, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AVS_FAILBACK_ACCESS_TOKEN", TOKEN[:10] + "\x1b" + TOKEN[10:])
    code, out, err = cli(rig, "items")
    assert code == 6
    assert TOKEN[:10] not in err and TOKEN[10:] not in err and "control characters" in said(err)
    assert rig.front.seen == []


@pytest.mark.parametrize(
    "argv",
    [
        ("--vault", "rsv-avs\n", "--resource-group", "rg", "--subscription", "00000000-0000-4000-8000-000000000001"),
        ("--vault", "v?x=1", "--resource-group", "rg", "--subscription", "00000000-0000-4000-8000-000000000001"),
        ("--vault", "rsv", "--resource-group", "..", "--subscription", "00000000-0000-4000-8000-000000000001"),
        ("--vault", "rsv", "--resource-group", "rg\x1b[2J", "--subscription", "00000000-0000-4000-8000-000000000001"),
        ("--vault", "rsv", "--resource-group", "rg", "--subscription", "not-a-guid"),
        ("--vault-id", "/subscriptions/00000000-0000-4000-8000-000000000001/resourceGroups/../providers/"
         "Microsoft.RecoveryServices/vaults/v1"),
    ],
)  # fmt: skip
def test_a_crafted_vault_segment_is_refused_before_any_request(rig: Hostile, argv: tuple[str, ...]) -> None:
    code, out, err = cli(rig, "items", *argv)
    assert code == 2, err
    assert "Bad vault" in said(err) and "\x1b" not in err
    assert rig.front.seen == []


def test_the_journal_records_who_signed_in(rig: Hostile, monkeypatch: pytest.MonkeyPatch) -> None:
    import base64

    def part(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")

    jwt = f"{part({'alg': 'none', 'typ': 'JWT'})}.{part({'upn': 'oncall@contoso.example'})}.signature0"
    monkeypatch.setenv("AVS_FAILBACK_ACCESS_TOKEN", jwt)
    code, out, err = cli(rig, "plan-failover", "rp-shop", "--point", "latest", "--yes", "--skip-preflight")
    assert code == 0, err
    records = journal_records()
    assert records and {r["who"] for r in records} == {"oncall@contoso.example"}
    assert jwt not in json.dumps(records)
