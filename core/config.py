"""Settings from the command line, the environment and TOML profiles; the credential they call for."""

from __future__ import annotations

import argparse
import os
import stat
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.errors import AuthenticationError, UsageError
from core.model import VaultRef

if TYPE_CHECKING:
    # azure-core costs the dashboard's first frame tens of milliseconds; it loads with the backend instead.
    from azure.core.credentials import AccessToken, TokenCredential

APP_NAME = "avs-failback"
AUTH_MODES = ("default", "device-code", "token", "cli")
TOKEN_ENV = "AVS_FAILBACK_ACCESS_TOKEN"


@dataclass(frozen=True)
class Cloud:
    name: str
    arm_endpoint: str
    credential_scope: str
    authority_host: str


# ARM endpoints, token scopes and sign-in hosts of the public and sovereign clouds (azure-identity's
# AzureAuthorityHosts values, written out so that this module loads without azure-identity).
CLOUDS: dict[str, Cloud] = {
    "AzureCloud": Cloud(
        "AzureCloud",
        "https://management.azure.com",
        "https://management.azure.com/.default",
        "login.microsoftonline.com",
    ),
    "AzureChinaCloud": Cloud(
        "AzureChinaCloud",
        "https://management.chinacloudapi.cn",
        "https://management.chinacloudapi.cn/.default",
        "login.chinacloudapi.cn",
    ),
    "AzureUSGovernment": Cloud(
        "AzureUSGovernment",
        "https://management.usgovcloudapi.net",
        "https://management.usgovcloudapi.net/.default",
        "login.microsoftonline.us",
    ),
}


@dataclass(frozen=True)
class Settings:
    vault: VaultRef | None = None
    arm_endpoint: str = "https://management.azure.com"
    credential_scope: str = "https://management.azure.com/.default"
    cloud: str = "AzureCloud"  # AzureCloud | AzureChinaCloud | AzureUSGovernment
    ca_bundle: str | None = None
    auth: str = "default"  # default | device-code | token | cli
    tenant: str | None = None
    read_only: bool = False
    demo: bool = False  # in-process emulator
    scenario: str = "demo"
    speed: float = 30.0  # demo clock: simulated seconds per real second
    profile: str | None = None


def config_dir(env: Mapping[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    base = env.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / APP_NAME


def state_dir(env: Mapping[str, str] | None = None) -> Path:
    """The per-user state directory (journal, sign-in record), created private (0700)."""
    env = os.environ if env is None else env
    base = env.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    path = Path(base) / APP_NAME
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(path, stat.S_IRWXU)
    return path


def _arg(args: argparse.Namespace | None, name: str) -> Any:
    return getattr(args, name, None) if args is not None else None


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes", "on")


def _load_profile(path: Path, name: str, source: str) -> dict[str, Any]:
    import tomllib  # only a profile needs it; its regular expressions cost every launch otherwise

    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except FileNotFoundError:
        raise UsageError(
            f"Profile {name!r} ({source}) needs the config file {path}, which does not exist.",
            hint=f'Create {path} with a [profiles.{name}] table (vault_id = "/subscriptions/…"), or drop the profile.',
        ) from None
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise UsageError(
            f"Cannot read the config file {path}: {exc}",
            hint="Fix the TOML syntax (or the file's permissions), then retry.",
        ) from None
    profiles = data.get("profiles")
    if not isinstance(profiles, dict) or not isinstance(profiles.get(name), dict):
        known = sorted(profiles) if isinstance(profiles, dict) else []
        listed = ", ".join(known) if known else "none"
        raise UsageError(
            f"Unknown profile {name!r} ({source}); profiles in {path}: {listed}.",
            hint=f"Add a [profiles.{name}] table to {path}, or pick one of the profiles listed.",
        )
    profile: dict[str, Any] = profiles[name]
    return profile


def _parse_vault(value: str, source: str) -> VaultRef:
    try:
        return VaultRef.parse(value)
    except ValueError as exc:
        raise UsageError(
            f"Bad vault id from {source}: {exc}",
            hint="Copy the vault's Resource ID from the portal (vault → Properties), or use "
            "--subscription/--resource-group/--vault.",
        ) from None


def _vault_from_args(args: argparse.Namespace | None) -> VaultRef | None:
    vault_id = _arg(args, "vault_id")
    parts = {
        "--subscription": _arg(args, "subscription"),
        "--resource-group": _arg(args, "resource_group"),
        "--vault": _arg(args, "vault"),
    }
    given = {k: v for k, v in parts.items() if v}
    if vault_id and given:
        raise UsageError("Give the vault either as --vault-id or as --subscription/--resource-group/--vault, not both.")
    if vault_id:
        return _parse_vault(str(vault_id), "--vault-id")
    if given:
        missing = [k for k in parts if k not in given]
        if missing:
            raise UsageError(
                f"Incomplete vault: {', '.join(missing)} missing.",
                hint="Pass all three of --subscription, --resource-group and --vault, or --vault-id.",
            )
        sub, rg, name = (str(parts[k]) for k in parts)
        return VaultRef(sub, rg, name)
    return None


def resolve_settings(
    args: argparse.Namespace | None = None,
    env: Mapping[str, str] | None = None,
    config_path: Path | None = None,
) -> Settings:
    """Settings with the precedence: command line > environment > TOML profile > defaults."""
    env = os.environ if env is None else env
    profile_name = _arg(args, "profile") or env.get("AVS_FAILBACK_PROFILE") or None
    profile: dict[str, Any] = {}
    if profile_name:
        source = "--profile" if _arg(args, "profile") else "AVS_FAILBACK_PROFILE"
        path = config_path or config_dir(env) / "config.toml"
        profile = _load_profile(path, str(profile_name), source)
    profile_label = f"profile {profile_name!r}"

    cloud_name = str(env.get("AVS_FAILBACK_CLOUD") or profile.get("cloud") or "AzureCloud")
    cloud = CLOUDS.get(cloud_name)
    if cloud is None:
        raise UsageError(
            f"Unknown cloud {cloud_name!r}; one of: {', '.join(CLOUDS)}.",
            hint=f"Fix 'cloud' in {profile_label} or AVS_FAILBACK_CLOUD.",
        )

    vault = _vault_from_args(args)
    if vault is None and env.get("AVS_FAILBACK_VAULT_ID"):
        vault = _parse_vault(env["AVS_FAILBACK_VAULT_ID"], "AVS_FAILBACK_VAULT_ID")
    if vault is None and profile.get("vault_id"):
        vault = _parse_vault(str(profile["vault_id"]), profile_label)

    endpoint = str(
        _arg(args, "arm_endpoint")
        or env.get("AVS_FAILBACK_ARM_ENDPOINT")
        or profile.get("arm_endpoint")
        or cloud.arm_endpoint
    ).rstrip("/")
    if not endpoint.lower().startswith("https://"):
        raise UsageError(
            f"The ARM endpoint must use https:// (got {endpoint!r}).",
            hint="Azure SDK bearer authentication refuses plain http; point it at an https:// URL.",
        )
    scope = str(profile.get("credential_scope") or cloud.credential_scope)
    ca_bundle = _arg(args, "ca_bundle") or env.get("AVS_FAILBACK_CA_BUNDLE") or profile.get("ca_bundle") or None
    if ca_bundle and not Path(str(ca_bundle)).is_file():
        raise UsageError(
            f"The CA bundle {ca_bundle} does not exist.",
            hint="Pass the path of a PEM file with --ca-bundle (or AVS_FAILBACK_CA_BUNDLE).",
        )

    if _arg(args, "device_code"):
        auth = "device-code"
    elif _arg(args, "auth"):
        auth = str(_arg(args, "auth"))
    elif env.get(TOKEN_ENV):
        auth = "token"
    else:
        auth = str(profile.get("auth") or "default")
    if auth not in AUTH_MODES:
        raise UsageError(f"Unknown auth mode {auth!r}; one of: {', '.join(AUTH_MODES)}.")

    tenant = _arg(args, "tenant") or env.get("AVS_FAILBACK_TENANT") or profile.get("tenant") or None
    read_only = bool(
        _arg(args, "read_only") or _truthy(env.get("AVS_FAILBACK_READ_ONLY")) or profile.get("read_only") is True
    )
    speed = _arg(args, "speed")
    return Settings(
        vault=vault,
        arm_endpoint=endpoint,
        credential_scope=scope,
        cloud=cloud.name,
        ca_bundle=str(ca_bundle) if ca_bundle else None,
        auth=auth,
        tenant=str(tenant) if tenant else None,
        read_only=read_only,
        demo=bool(_arg(args, "demo")),
        scenario=str(_arg(args, "scenario") or "demo"),
        speed=float(speed) if speed is not None else 30.0,
        profile=str(profile_name) if profile_name else None,
    )


class StaticTokenCredential:
    """A bearer token handed over as-is (AVS_FAILBACK_ACCESS_TOKEN, or the emulator's placeholder).

    The token never appears in repr() or str(): these objects end up in logs and tracebacks.
    """

    __slots__ = ("_token",)

    # ARM rejects a stale token with 401 and the CLI reports that; no refresh is possible here anyway.
    _LIFETIME = 365 * 24 * 3600

    def __init__(self, token: str) -> None:
        if not token:
            raise AuthenticationError("The access token is empty.")
        self._token = token

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        from azure.core.credentials import AccessToken

        return AccessToken(self._token, int(time.time()) + self._LIFETIME)

    def close(self) -> None:
        return None

    def __repr__(self) -> str:
        return "StaticTokenCredential(token=<hidden>)"

    __str__ = __repr__

    def __reduce__(self) -> Any:
        raise TypeError("StaticTokenCredential is not picklable: it holds a secret")


def _record_path(settings: Settings) -> Path:
    return state_dir() / f"auth-record-{settings.cloud}.json"


def _write_private(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.chmod(path, 0o600)


class _RecordingCredential:
    """Signs in once with the device code and saves the AuthenticationRecord (account ids, no token)."""

    def __init__(self, inner: Any, record_path: Path, scope: str) -> None:
        self._inner = inner
        self._path = record_path
        self._scope = scope
        self._recorded = False

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        if not self._recorded:
            record = self._inner.authenticate(scopes=list(scopes) or [self._scope])
            _write_private(self._path, record.serialize())
            self._recorded = True
        token: AccessToken = self._inner.get_token(*scopes, **kwargs)
        return token

    def close(self) -> None:
        self._inner.close()

    def __repr__(self) -> str:
        return f"DeviceCodeSignIn(record={self._path})"


def _to_stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def make_credential(
    settings: Settings,
    env: Mapping[str, str] | None = None,
    prompt: Callable[[str], None] | None = None,
) -> TokenCredential:
    """The azure-identity credential the settings ask for (imported here: it costs start-up time)."""
    env = os.environ if env is None else env
    if settings.auth == "token":
        token = env.get(TOKEN_ENV, "")
        if not token:
            raise AuthenticationError(f"Token sign-in was chosen but {TOKEN_ENV} is empty.")
        return StaticTokenCredential(token)

    import azure.identity as identity

    authority = CLOUDS.get(settings.cloud, CLOUDS["AzureCloud"]).authority_host
    if settings.auth == "cli":
        cli: TokenCredential = identity.AzureCliCredential(tenant_id=settings.tenant or "")
        return cli
    if settings.auth == "device-code":
        say = prompt or _to_stderr  # stdout may carry --json output

        def on_code(verification_uri: str, user_code: str, expires_on: Any) -> None:
            say(f"To sign in, open {verification_uri} and enter the code {user_code}.")

        record_path = _record_path(settings)
        record = None
        if record_path.is_file():
            try:
                record = identity.AuthenticationRecord.deserialize(record_path.read_text(encoding="utf-8"))
            except (OSError, ValueError, KeyError):
                record = None  # a damaged record only costs one more sign-in
        options: dict[str, Any] = {
            "prompt_callback": on_code,
            "cache_persistence_options": identity.TokenCachePersistenceOptions(
                name=APP_NAME, allow_unencrypted_storage=True
            ),
        }
        if settings.tenant:
            options["tenant_id"] = settings.tenant
        if record is not None:
            # the record carries its own authority, tenant and client id; azure-identity refuses a second authority
            options["authentication_record"] = record
        else:
            options["authority"] = authority
        inner = identity.DeviceCodeCredential(**options)
        if record is not None:
            device: TokenCredential = inner
            return device
        recording: TokenCredential = _RecordingCredential(inner, record_path, settings.credential_scope)
        return recording
    default: TokenCredential = identity.DefaultAzureCredential(authority=authority)
    return default
