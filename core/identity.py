"""Who is signed in, as Azure names them: read from the access token's claims, never from the token's text."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from core.errors import AuthenticationError, FailbackError

# Users carry upn (work accounts) or unique_name / preferred_username (guests, v2 tokens); service principals and
# managed identities have no user name, so their application's name or id, then their object id, stand in.
NAME_CLAIMS = ("upn", "unique_name", "preferred_username", "app_displayname", "appid", "azp", "oid")


def identity_name(credential: Any, scope: str) -> str:
    """The signed-in identity's name from its token's payload ("" when the token is not a JWT).

    No signature check and no network beyond the credential's own token request: the name is for the journal
    and the screen, not for any security decision.
    """
    try:
        access = credential.get_token(scope)
    except FailbackError:
        raise
    except Exception as exc:  # azure-identity raises its own types; the operator needs ours, with a hint
        # Credential errors describe the sign-in attempts, never the token itself.
        raise AuthenticationError(f"Could not get an access token for {scope}: {exc}") from exc
    return name_from_claims(token_claims(getattr(access, "token", "")))


def token_claims(token: str) -> dict[str, Any]:
    """The JWT payload as a dict; {} when `token` is not a JWT. Nothing about the token leaks into errors."""
    if not isinstance(token, str):
        return {}
    parts = token.split(".")
    if len(parts) != 3 or not parts[0].startswith("eyJ") or not parts[1]:
        return {}
    payload = parts[1] + "=" * (-len(parts[1]) % 4)
    try:
        claims = json.loads(base64.urlsafe_b64decode(payload.encode("ascii")))
    except (ValueError, binascii.Error, UnicodeError):
        return {}
    return claims if isinstance(claims, dict) else {}


def name_from_claims(claims: dict[str, Any]) -> str:
    for claim in NAME_CLAIMS:
        value = claims.get(claim)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return ""
