"""identity_name: the signed-in name from a token's claims, offline, and never the token."""

from __future__ import annotations

import base64
import json
from typing import Any, NamedTuple

import pytest

from core.errors import AuthenticationError
from core.identity import identity_name, token_claims

SCOPE = "https://management.azure.com/.default"


def b64url(value: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


def unsigned_jwt(claims: dict[str, Any]) -> str:
    return f"{b64url({'alg': 'none', 'typ': 'JWT'})}.{b64url(claims)}."


class Token(NamedTuple):
    token: str
    expires_on: int


class Credential:
    def __init__(self, token: str) -> None:
        self._token = token
        self.scopes: list[str] = []

    def get_token(self, *scopes: str, **kwargs: Any) -> Token:
        self.scopes.extend(scopes)
        return Token(self._token, 0)


class Failing:
    def get_token(self, *scopes: str, **kwargs: Any) -> Token:
        raise RuntimeError("Please run 'az login' to set up an account.")


@pytest.mark.parametrize(
    ("claims", "expected"),
    [
        ({"upn": "ops@contoso.com", "unique_name": "live.com#ops@x", "oid": "o-1"}, "ops@contoso.com"),
        ({"unique_name": "live.com#guest@fabrikam.com", "oid": "o-1"}, "live.com#guest@fabrikam.com"),
        ({"preferred_username": "ops@contoso.com", "oid": "o-1"}, "ops@contoso.com"),
        ({"app_displayname": "failback-automation", "appid": "a-1", "oid": "o-1"}, "failback-automation"),
        ({"appid": "11111111-2222", "oid": "o-1"}, "11111111-2222"),
        ({"oid": "33333333-4444"}, "33333333-4444"),
        ({"upn": "  ", "oid": "o-2"}, "o-2"),
        ({"iss": "https://sts.windows.net/t/"}, ""),
    ],
)
def test_name_from_a_crafted_unsigned_jwt(claims: dict[str, Any], expected: str) -> None:
    credential = Credential(unsigned_jwt(claims))
    assert identity_name(credential, SCOPE) == expected
    assert credential.scopes == [SCOPE]


def test_a_signed_looking_jwt_is_read_without_checking_the_signature() -> None:
    token = unsigned_jwt({"upn": "ops@contoso.com"}) + "c2lnbmF0dXJl"
    assert identity_name(Credential(token), SCOPE) == "ops@contoso.com"


@pytest.mark.parametrize(
    "token",
    ["emulator", "", "a.b.c", "eyJhbGciOiJub25lIn0.!!!notbase64!!!.", f"eyJ.{b64url({'upn': 'x'})}.extra.part"],
)
def test_non_jwt_tokens_give_an_empty_name(token: str) -> None:
    assert identity_name(Credential(token), SCOPE) == ""


def test_payload_that_is_not_an_object_gives_no_claims() -> None:
    token = f"{b64url({'alg': 'none'})}.{base64.urlsafe_b64encode(b'[1, 2]').decode()}."
    assert token_claims(token) == {}


def test_a_credential_failure_becomes_an_authentication_error_with_its_reason() -> None:
    with pytest.raises(AuthenticationError) as raised:
        identity_name(Failing(), SCOPE)
    assert "az login" in str(raised.value) and raised.value.exit_code == 6


def test_the_token_never_appears_in_the_result(capsys: pytest.CaptureFixture[str]) -> None:
    token = unsigned_jwt({"oid": "o-1"})
    name = identity_name(Credential(token), SCOPE)
    out = capsys.readouterr()
    assert token not in name and token not in out.out and token not in out.err
