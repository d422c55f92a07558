"""Settings from the command line, the environment and TOML profiles; the credential they call for."""

from __future__ import annotations

import argparse
import os
import re
import stat
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.endpoints import origin_of
from core.errors import AuthenticationError, UsageError
from core.model import VaultRef
from core.sanitize import one_line

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
    rehearse: bool = False  # every read live, nothing mutating sent: the steps go on on a simulation (core.rehearsal)
    demo: bool = False  # in-process emulator
    scenario: str = "demo"
    speed: float = 30.0  # demo clock: simulated seconds per real second
    profile: str | None = None
    # What the screen must say about where the token goes, when a profile (a file) chose it rather than the
    # operator: a non-default ARM endpoint or a private CA. Empty when nothing calls for it.
    notices: tuple[str, ...] = ()
    fleet: str = ""  # the emulated fleet (core/emulator/fleets/NAME.json) a demo runs; "" for the single demo vault
    subscriptions: tuple[str, ...] = ()  # the fleet's scope; empty: every subscription the identity can read
    # Told outside the screen (core.notify): a command run with each event as JSON, the desktop escape, the bell.
    notify_command: str = ""
    notify_desktop: str = "auto"
    bell: bool = True


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


_TRUE = ("1", "true", "yes", "y", "on")
_FALSE = ("0", "false", "no", "n", "off")


def parse_switch(value: Any, source: str) -> bool:
    """An on/off setting (a safety switch): TOML's true/false or a clear word; anything else is refused, so a
    typo never silently means off."""
    if isinstance(value, bool):
        return value
    word = value.strip().lower() if isinstance(value, str) else None
    if word in _TRUE:
        return True
    if word in _FALSE:
        return False
    raise UsageError(
        f"{source} is {one_line(repr(value), 60)}, which is neither true nor false.",
        hint=f"Set it to true or false (or one of {', '.join(_TRUE + _FALSE)}); the tool does not guess a "
        "safety switch.",
    )


# The keys a profile may hold, each a string except read_only. Any other key is a typo (`readonly = true`
# would otherwise leave the session read-write without a word).
PROFILE_KEYS = (
    "vault_id",
    "tenant",
    "auth",
    "read_only",
    "rehearse",
    "cloud",
    "arm_endpoint",
    "ca_bundle",
    "credential_scope",
    "notify_command",
    "notify_desktop",
)


def check_private(path: Path, what: str) -> None:
    """Refuse a file that another user could have written, as ssh does with its config: the file and every
    folder above it, up to the home folder, owned by this user (or root) and writable by no group or other.

    A root-owned folder with the sticky bit (/tmp) ends the walk: no one else can replace what is in it.
    """
    uid = os.getuid()
    home = Path.home()
    current = Path(os.path.realpath(path))
    while True:
        try:
            st = current.stat()
        except OSError:
            return  # a missing file is reported by whoever opens it, with the right words
        sticky_root = stat.S_ISDIR(st.st_mode) and st.st_mode & stat.S_ISVTX and st.st_uid == 0
        if sticky_root:
            return
        if st.st_uid not in (uid, 0):
            raise UsageError(
                f"Refusing {what} {path}: {current} belongs to another user (uid {st.st_uid}).",
                hint="It decides where the tool sends your token. Keep it in a folder of your own, owned by you.",
            )
        if st.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
            raise UsageError(
                f"Refusing {what} {path}: {current} can be changed by other users (mode {stat.S_IMODE(st.st_mode):o}).",
                hint=f"It decides where the tool sends your token. Run: chmod go-w {current}",
            )
        if current == home or current.parent == current:
            return
        current = current.parent


def _load_profile(path: Path, name: str, source: str) -> dict[str, Any]:
    import tomllib  # only a profile needs it; its regular expressions cost every launch otherwise

    check_private(path, "the config file")
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except FileNotFoundError:
        raise UsageError(
            f"Profile {name!r} ({source}) needs the config file {path}, which does not exist.",
            hint=f'Create {path} with a [profiles.{name}] table (vault_id = "/subscriptions/…"), or drop the profile.',
        ) from None
    except (OSError, ValueError, RecursionError) as exc:
        # ValueError: TOML syntax, and bytes that are not UTF-8; RecursionError: arrays nested past the stack.
        reason = "it is nested too deeply" if isinstance(exc, RecursionError) else one_line(exc, 200)
        raise UsageError(
            f"Cannot read the config file {path}: {reason}",
            hint="Fix the TOML syntax (UTF-8 text; or the file's permissions), then retry.",
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
    unknown = sorted(str(k) for k in profile if k not in PROFILE_KEYS)
    if unknown:
        raise UsageError(
            f"Profile {name!r} in {path} has unknown keys: {one_line(', '.join(unknown), 200)}.",
            hint=f"A profile takes: {', '.join(PROFILE_KEYS)}. Fix the spelling, or remove the key.",
        )
    for key, value in profile.items():
        if key not in ("read_only", "rehearse") and not isinstance(value, str):
            raise UsageError(
                f"Profile {name!r} in {path}: {key} must be a string, not {type(value).__name__}.",
                hint=f'Write it in quotes: {key} = "…"',
            )
    return profile


_VAULT_HINT = (
    "Copy the vault's Resource ID from the portal (vault → Properties), or use --subscription/--resource-group/--vault."
)
# ARM's naming rules (learn.microsoft.com, azure-resource-manager/management/resource-name-rules): a subscription
# is a GUID; a resource group 1-90 letters, digits, '_', '-', '.', '(' and ')', not ending in '.'; a Recovery
# Services vault 2-50 letters, digits and '-', starting with a letter. Each segment goes into ARM URLs with the
# token: a '/', '?', '#', '%', a line break or '..' would reach other paths.
_GUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_GROUP = re.compile(r"[-\w.()]{1,90}")
_VAULT = re.compile(r"[A-Za-z][A-Za-z0-9-]{1,49}")


def check_vault(vault: VaultRef, source: str) -> VaultRef:
    """The vault, once each segment of its id is what ARM allows; else a usage error naming the segment."""
    problems = []
    if not _GUID.fullmatch(vault.subscription_id):
        problems.append(f"the subscription {one_line(repr(vault.subscription_id), 60)} is not a GUID")
    group = vault.resource_group
    if not _GROUP.fullmatch(group) or group.endswith(".") or not group.isprintable():
        problems.append(f"the resource group {one_line(repr(group), 60)} is not a resource group name")
    if not _VAULT.fullmatch(vault.name):
        problems.append(f"the vault name {one_line(repr(vault.name), 60)} is not a vault name")
    if problems:
        raise UsageError(f"Bad vault from {source}: {'; '.join(problems)}.", hint=_VAULT_HINT)
    return vault


def _parse_vault(value: str, source: str) -> VaultRef:
    try:
        vault = VaultRef.parse(value)
    except ValueError:
        raise UsageError(
            f"Bad vault id from {source}: {one_line(repr(value), 200)} is not a Recovery Services vault id "
            "(/subscriptions/<GUID>/resourceGroups/<group>/providers/Microsoft.RecoveryServices/vaults/<vault>).",
            hint=_VAULT_HINT,
        ) from None
    return check_vault(vault, source)


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
        return check_vault(VaultRef(sub, rg, name), "--subscription/--resource-group/--vault")
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
            f"Unknown cloud {one_line(repr(cloud_name), 60)}; one of: {', '.join(CLOUDS)}.",
            hint=f"Fix 'cloud' in {profile_label} or AVS_FAILBACK_CLOUD.",
        )

    vault = _vault_from_args(args)
    if vault is None and env.get("AVS_FAILBACK_VAULT_ID"):
        vault = _parse_vault(env["AVS_FAILBACK_VAULT_ID"], "AVS_FAILBACK_VAULT_ID")
    if vault is None and profile.get("vault_id"):
        vault = _parse_vault(str(profile["vault_id"]), profile_label)

    given_endpoint = _arg(args, "arm_endpoint") or env.get("AVS_FAILBACK_ARM_ENDPOINT")
    endpoint = str(given_endpoint or profile.get("arm_endpoint") or cloud.arm_endpoint).rstrip("/")
    origin_of(endpoint, "The ARM endpoint")
    scope = str(profile.get("credential_scope") or cloud.credential_scope)
    given_ca = _arg(args, "ca_bundle") or env.get("AVS_FAILBACK_CA_BUNDLE")
    ca_bundle = given_ca or profile.get("ca_bundle") or None
    if ca_bundle and not Path(str(ca_bundle)).is_file():
        raise UsageError(
            f"The CA bundle {one_line(ca_bundle, 200)} does not exist.",
            hint="Pass the path of a PEM file with --ca-bundle (or AVS_FAILBACK_CA_BUNDLE).",
        )
    if ca_bundle:
        check_private(Path(str(ca_bundle)), "the CA bundle")  # whoever can add a CA to it can be the endpoint
    notices = []
    if not given_endpoint and profile.get("arm_endpoint") and endpoint != cloud.arm_endpoint:
        notices.append(f"ARM endpoint {one_line(endpoint, 120)} (from {profile_label}), not {cloud.name}'s")
    if not given_ca and profile.get("ca_bundle"):
        notices.append(f"private CA {one_line(ca_bundle, 120)} trusted (from {profile_label})")

    device_code, auth_arg = _arg(args, "device_code"), _arg(args, "auth")
    if device_code and auth_arg and auth_arg != "device-code":
        raise UsageError(
            f"--device-code and --auth {one_line(auth_arg, 20)} ask for two ways of signing in.",
            hint="Pass one of them.",
        )
    if device_code:
        auth = "device-code"
    elif auth_arg:
        auth = str(auth_arg)
    elif env.get(TOKEN_ENV):
        auth = "token"
    else:
        auth = str(profile.get("auth") or "default")
    if auth not in AUTH_MODES:
        raise UsageError(f"Unknown auth mode {one_line(repr(auth), 40)}; one of: {', '.join(AUTH_MODES)}.")

    tenant = _arg(args, "tenant") or env.get("AVS_FAILBACK_TENANT") or profile.get("tenant") or None
    read_only = bool(_arg(args, "read_only"))
    if env.get("AVS_FAILBACK_READ_ONLY", "").strip():
        read_only = parse_switch(env["AVS_FAILBACK_READ_ONLY"], "AVS_FAILBACK_READ_ONLY") or read_only
    if "read_only" in profile:
        read_only = parse_switch(profile["read_only"], f"read_only in {profile_label}") or read_only
    # A rehearsal sends nothing mutating (core.rehearsal); like read-only, any of the three switches it on.
    rehearse = bool(_arg(args, "rehearse"))
    if env.get("AVS_FAILBACK_REHEARSE", "").strip():
        rehearse = parse_switch(env["AVS_FAILBACK_REHEARSE"], "AVS_FAILBACK_REHEARSE") or rehearse
    if "rehearse" in profile:
        rehearse = parse_switch(profile["rehearse"], f"rehearse in {profile_label}") or rehearse
    speed = _arg(args, "speed")
    notify_command = (
        _arg(args, "notify_command") or env.get("AVS_FAILBACK_NOTIFY_COMMAND") or profile.get("notify_command")
    )
    notify_desktop = str(_arg(args, "notify_desktop") or profile.get("notify_desktop") or "auto")
    from core.notify import DESKTOP_CHOICES

    if notify_desktop not in DESKTOP_CHOICES:
        raise UsageError(
            f"notify_desktop must be one of {', '.join(DESKTOP_CHOICES)}, not {one_line(repr(notify_desktop), 40)}."
        )
    return Settings(
        vault=vault,
        arm_endpoint=endpoint,
        credential_scope=scope,
        cloud=cloud.name,
        ca_bundle=str(ca_bundle) if ca_bundle else None,
        auth=auth,
        tenant=str(tenant) if tenant else None,
        read_only=read_only,
        rehearse=rehearse,
        demo=bool(_arg(args, "demo")),
        scenario=str(_arg(args, "scenario") or "demo"),
        speed=float(speed) if speed is not None else 30.0,
        profile=str(profile_name) if profile_name else None,
        notices=tuple(notices),
        fleet=str(_arg(args, "fleet") or ""),
        notify_command=str(notify_command or ""),
        notify_desktop=notify_desktop,
        bell=not _arg(args, "no_bell"),
    )


class StaticTokenCredential:
    """A bearer token handed over as-is (AVS_FAILBACK_ACCESS_TOKEN, or the emulator's placeholder).

    The token never appears in repr() or str(): these objects end up in logs and tracebacks.
    """

    __slots__ = ("_token",)

    # ARM rejects a stale token with 401 and the CLI reports that; no refresh is possible here anyway.
    _LIFETIME = 365 * 24 * 3600

    def __init__(self, token: str) -> None:
        # Secret files and CI variables often end in a newline; anything else unprintable is refused without
        # being echoed (it would reach a request header, and from there an error message).
        token = token.strip()
        if not token:
            raise AuthenticationError("The access token is empty.")
        if not token.isprintable() or any(c.isspace() for c in token):
            raise AuthenticationError(
                f"The access token in {TOKEN_ENV} holds spaces or control characters; it was not used.",
                hint=f"Set {TOKEN_ENV} to the token alone, on one line (`az account get-access-token --query "
                "accessToken -o tsv`).",
            )
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
        if not token.strip():
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
            # both come from the sign-in service's answer
            say(f"To sign in, open {one_line(verification_uri, 200)} and enter the code {one_line(user_code, 40)}.")

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
