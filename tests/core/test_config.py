"""Settings precedence and errors, credentials, and the state directory."""

from __future__ import annotations

import argparse
import os
import pickle
import stat
from pathlib import Path
from typing import Any

import pytest

from core import config
from core.config import Settings, StaticTokenCredential, make_credential, resolve_settings, state_dir
from core.errors import AuthenticationError, UsageError
from core.model import VaultRef

S1, S2, S3, S9 = (f"{n}{n}{n}{n}{n}{n}{n}{n}-0000-4000-8000-00000000000{n}" for n in (1, 2, 3, 9))
V1 = f"/subscriptions/{S1}/resourceGroups/rg1/providers/Microsoft.RecoveryServices/vaults/v1"
V2 = f"/subscriptions/{S2}/resourceGroups/rg2/providers/Microsoft.RecoveryServices/vaults/v2"
V3 = f"/subscriptions/{S3}/resourceGroups/rg3/providers/Microsoft.RecoveryServices/vaults/v3"


def ns(**kw: Any) -> argparse.Namespace:
    return argparse.Namespace(**kw)


@pytest.fixture
def toml(tmp_path: Path) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(
        f"""
[profiles.prod]
vault_id = "{V3}"
tenant = "tenant-prod"
auth = "device-code"
read_only = true

[profiles.china]
vault_id = "{V3}"
cloud = "AzureChinaCloud"
""",
        encoding="utf-8",
    )
    return path


def test_defaults_without_any_source(tmp_path: Path) -> None:
    settings = resolve_settings(None, env={}, config_path=tmp_path / "missing.toml")
    assert settings == Settings()


def test_cli_beats_env_beats_profile(toml: Path) -> None:
    env = {"AVS_FAILBACK_VAULT_ID": V2, "AVS_FAILBACK_PROFILE": "prod"}
    from_profile = resolve_settings(ns(), env={"AVS_FAILBACK_PROFILE": "prod"}, config_path=toml)
    assert from_profile.vault == VaultRef.parse(V3)
    assert from_profile.profile == "prod"
    assert from_profile.tenant == "tenant-prod" and from_profile.auth == "device-code"
    assert from_profile.read_only
    assert resolve_settings(ns(), env=env, config_path=toml).vault == VaultRef.parse(V2)
    assert resolve_settings(ns(vault_id=V1), env=env, config_path=toml).vault == VaultRef.parse(V1)
    parts = ns(subscription=S9, resource_group="rg9", vault="v9")
    assert resolve_settings(parts, env=env, config_path=toml).vault == VaultRef(S9, "rg9", "v9")
    cli_tenant = resolve_settings(ns(profile="prod", tenant="t-cli"), env={}, config_path=toml)
    assert cli_tenant.tenant == "t-cli"


def test_endpoint_ca_bundle_and_token(tmp_path: Path) -> None:
    ca = tmp_path / "ca.pem"
    ca.write_text("pem", encoding="utf-8")
    env = {
        "AVS_FAILBACK_ARM_ENDPOINT": "https://127.0.0.1:8443/",
        "AVS_FAILBACK_CA_BUNDLE": str(ca),
        "AVS_FAILBACK_ACCESS_TOKEN": "emulator",
    }
    settings = resolve_settings(ns(), env=env, config_path=tmp_path / "none.toml")
    assert settings.arm_endpoint == "https://127.0.0.1:8443"
    assert settings.ca_bundle == str(ca)
    assert settings.auth == "token"
    overridden = resolve_settings(ns(arm_endpoint="https://other:1", device_code=True), env=env)
    assert overridden.arm_endpoint == "https://other:1" and overridden.auth == "device-code"


def test_sovereign_cloud_from_profile(toml: Path) -> None:
    settings = resolve_settings(ns(profile="china"), env={}, config_path=toml)
    assert settings.cloud == "AzureChinaCloud"
    assert settings.arm_endpoint == "https://management.chinacloudapi.cn"
    assert settings.credential_scope == "https://management.chinacloudapi.cn/.default"
    gov = resolve_settings(ns(), env={"AVS_FAILBACK_CLOUD": "AzureUSGovernment"})
    assert gov.arm_endpoint == "https://management.usgovcloudapi.net"


def test_demo_fields_come_from_args() -> None:
    settings = resolve_settings(ns(demo=True, scenario="agent-window", speed=120, read_only=True), env={})
    assert settings.demo and settings.scenario == "agent-window" and settings.speed == 120.0
    assert settings.read_only


@pytest.mark.parametrize(
    ("args", "env", "words"),
    [
        (ns(vault_id="/subscriptions/x/nope"), {}, "--vault-id"),
        (ns(), {"AVS_FAILBACK_VAULT_ID": "garbage"}, "AVS_FAILBACK_VAULT_ID"),
        (ns(subscription="s", vault="v"), {}, "--resource-group"),
        (ns(vault_id=V1, vault="v"), {}, "not both"),
        (ns(arm_endpoint="http://127.0.0.1:8443"), {}, "https://"),
        (ns(auth="magic"), {}, "magic"),
        (ns(ca_bundle="/no/such/ca.pem"), {}, "/no/such/ca.pem"),
        (ns(), {"AVS_FAILBACK_CLOUD": "Mars"}, "Mars"),
    ],
)
def test_usage_errors_name_the_source(args: argparse.Namespace, env: dict[str, str], words: str) -> None:
    with pytest.raises(UsageError) as err:
        resolve_settings(args, env=env)
    assert words in err.value.message
    assert err.value.exit_code == 2


def test_profile_errors(toml: Path, tmp_path: Path) -> None:
    with pytest.raises(UsageError) as unknown:
        resolve_settings(ns(profile="staging"), env={}, config_path=toml)
    assert "staging" in unknown.value.message and "china, prod" in unknown.value.message
    with pytest.raises(UsageError) as missing:
        resolve_settings(ns(), env={"AVS_FAILBACK_PROFILE": "prod"}, config_path=tmp_path / "nope.toml")
    assert "AVS_FAILBACK_PROFILE" in missing.value.message
    broken = tmp_path / "broken.toml"
    broken.write_text("[profiles.prod\nvault_id = 1", encoding="utf-8")
    with pytest.raises(UsageError) as bad:
        resolve_settings(ns(profile="prod"), env={}, config_path=broken)
    assert str(broken) in bad.value.message
    bad_vault = tmp_path / "badvault.toml"
    bad_vault.write_text('[profiles.p]\nvault_id = "nope"\n', encoding="utf-8")
    with pytest.raises(UsageError) as vault_err:
        resolve_settings(ns(profile="p"), env={}, config_path=bad_vault)
    assert "profile 'p'" in vault_err.value.message


def test_static_token_credential_never_reveals_the_token() -> None:
    secret = "eyJ0eXAiOiJKV1QiLCJhbGciOi.secret-part"
    cred = StaticTokenCredential(secret)
    assert secret not in repr(cred) and secret not in str(cred) and secret not in f"{cred!r} {cred}"
    assert "secret" not in repr(cred)
    token = cred.get_token("https://management.azure.com/.default")
    assert token.token == secret
    import time

    assert token.expires_on > time.time() + 30 * 24 * 3600
    with pytest.raises(TypeError):
        pickle.dumps(cred)
    with pytest.raises(AuthenticationError):
        StaticTokenCredential("")


def test_make_credential_token_and_missing_token() -> None:
    cred = make_credential(Settings(auth="token"), env={"AVS_FAILBACK_ACCESS_TOKEN": "tok"})
    assert isinstance(cred, StaticTokenCredential)
    assert cred.get_token("s").token == "tok"
    with pytest.raises(AuthenticationError):
        make_credential(Settings(auth="token"), env={})


def test_make_credential_cli_and_default() -> None:
    import azure.identity as identity

    assert isinstance(make_credential(Settings(auth="cli", tenant="t1"), env={}), identity.AzureCliCredential)
    assert isinstance(make_credential(Settings(), env={}), identity.DefaultAzureCredential)


class FakeRecord:
    def serialize(self) -> str:
        return '{"username": "op@example.com", "homeAccountId": "x"}'


class FakeDeviceCode:
    made: list[dict[str, Any]] = []

    def __init__(self, **kwargs: Any) -> None:
        FakeDeviceCode.made.append(kwargs)
        self.kwargs = kwargs

    def authenticate(self, scopes: list[str]) -> FakeRecord:
        self.kwargs["prompt_callback"]("https://microsoft.com/devicelogin", "ABC123", None)
        return FakeRecord()

    def get_token(self, *scopes: str, **kw: Any) -> Any:
        from azure.core.credentials import AccessToken

        return AccessToken("device-token", 0)

    def close(self) -> None:
        pass


def test_device_code_saves_the_sign_in_record_privately(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import azure.identity as identity

    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setattr(identity, "DeviceCodeCredential", FakeDeviceCode)
    monkeypatch.setattr(identity.AuthenticationRecord, "deserialize", staticmethod(lambda text: ("record", text)))
    FakeDeviceCode.made.clear()
    said: list[str] = []
    settings = Settings(auth="device-code", tenant="t-1", cloud="AzureUSGovernment")
    cred = make_credential(settings, env={}, prompt=said.append)
    assert cred.get_token("scope").token == "device-token"
    assert said == ["To sign in, open https://microsoft.com/devicelogin and enter the code ABC123."]
    made = FakeDeviceCode.made[0]
    assert made["tenant_id"] == "t-1" and made["authority"] == "login.microsoftonline.us"
    assert made["cache_persistence_options"].allow_unencrypted_storage
    assert made["cache_persistence_options"].name == "avs-failback"
    assert "authentication_record" not in made
    record = tmp_path / "state" / "avs-failback" / "auth-record-AzureUSGovernment.json"
    assert stat.S_IMODE(record.stat().st_mode) == 0o600
    assert "device-token" not in record.read_text(encoding="utf-8")
    # the next run reuses the record instead of signing in again
    again = make_credential(settings, env={})
    assert isinstance(again, FakeDeviceCode)
    assert again.kwargs["authentication_record"][0] == "record"
    assert "authority" not in again.kwargs and again.kwargs["tenant_id"] == "t-1"


def test_device_code_with_a_real_record_constructs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import azure.identity as identity

    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    record = identity.AuthenticationRecord(
        "tenant-x", "04b07795-8ddb-461a-bbee-02f9e1bf7b46", "login.microsoftonline.us", "uid.utid", "op@example.com"
    )
    path = state_dir() / "auth-record-AzureUSGovernment.json"
    path.write_text(record.serialize(), encoding="utf-8")
    monkeypatch.setattr(identity, "TokenCachePersistenceOptions", lambda **kw: None)  # no cache file in tests
    cred = make_credential(Settings(auth="device-code", cloud="AzureUSGovernment"), env={})
    assert isinstance(cred, identity.DeviceCodeCredential)


def test_state_dir_is_private(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "s"))
    path = state_dir()
    assert path == tmp_path / "s" / "avs-failback"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o700
    assert config.config_dir({"XDG_CONFIG_HOME": "/etc/x"}) == Path("/etc/x/avs-failback")


# -- careless and hostile configs ------------------------------------------------------------------------------


def profile_file(tmp_path: Path, body: str, name: str = "config.toml") -> Path:
    path = tmp_path / name
    path.write_text(f'[profiles.p]\nvault_id = "{V1}"\n{body}\n', encoding="utf-8")
    os.chmod(path, 0o600)
    return path


@pytest.mark.parametrize("value", ['"true"', '"yes"', "true", '"1"', '"ON"'])
def test_read_only_spelled_as_a_word_means_read_only(tmp_path: Path, value: str) -> None:
    path = profile_file(tmp_path, f"read_only = {value}")
    assert resolve_settings(ns(profile="p"), env={}, config_path=path).read_only


@pytest.mark.parametrize("value", ['"maybe"', '"treu"', "1", '""', "[true]", "{on = true}"])
def test_read_only_that_is_neither_true_nor_false_is_refused(tmp_path: Path, value: str) -> None:
    path = profile_file(tmp_path, f"read_only = {value}")
    with pytest.raises(UsageError) as err:
        resolve_settings(ns(profile="p"), env={}, config_path=path)
    assert (
        err.value.exit_code == 2 and "read_only" in err.value.message and "neither true nor false" in err.value.message
    )


@pytest.mark.parametrize(("value", "expected"), [("y", True), ("1", True), ("off", False), ("FALSE", False)])
def test_read_only_from_the_environment(value: str, expected: bool) -> None:
    assert resolve_settings(ns(), env={"AVS_FAILBACK_READ_ONLY": value}).read_only is expected


@pytest.mark.parametrize("value", ["maybe", "2", "enabled", "t"])
def test_read_only_from_the_environment_fails_closed(value: str) -> None:
    with pytest.raises(UsageError) as err:
        resolve_settings(ns(), env={"AVS_FAILBACK_READ_ONLY": value})
    assert "AVS_FAILBACK_READ_ONLY" in err.value.message


def test_read_only_on_the_command_line_wins_over_a_false_elsewhere(tmp_path: Path) -> None:
    path = profile_file(tmp_path, "read_only = false")
    settings = resolve_settings(ns(profile="p", read_only=True), env={"AVS_FAILBACK_READ_ONLY": "no"}, config_path=path)
    assert settings.read_only


def test_a_misspelt_key_is_refused_not_ignored(tmp_path: Path) -> None:
    path = profile_file(tmp_path, "readonly = true")
    with pytest.raises(UsageError) as err:
        resolve_settings(ns(profile="p"), env={}, config_path=path)
    assert "unknown keys: readonly" in err.value.message and "read_only" in err.value.hint


def test_a_value_of_the_wrong_type_is_refused(tmp_path: Path) -> None:
    path = profile_file(tmp_path, "tenant = 42")
    with pytest.raises(UsageError) as err:
        resolve_settings(ns(profile="p"), env={}, config_path=path)
    assert "tenant must be a string" in err.value.message


@pytest.mark.parametrize("mode", [0o620, 0o602, 0o666])
def test_a_config_file_others_can_write_is_refused(tmp_path: Path, mode: int) -> None:
    path = profile_file(tmp_path, 'arm_endpoint = "https://evil.example"')
    os.chmod(path, mode)
    with pytest.raises(UsageError) as err:
        resolve_settings(ns(profile="p"), env={}, config_path=path)
    assert "can be changed by other users" in err.value.message and "chmod go-w" in err.value.hint


def test_a_config_folder_others_can_write_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "shared"
    folder.mkdir()
    path = profile_file(folder, "")
    os.chmod(folder, 0o777)
    with pytest.raises(UsageError) as err:
        resolve_settings(ns(profile="p"), env={}, config_path=path)
    assert str(folder) in err.value.message


@pytest.mark.skipif(os.getuid() != 0, reason="giving a file to another user needs root")
def test_a_config_file_of_another_user_is_refused(tmp_path: Path) -> None:
    path = profile_file(tmp_path, "")
    os.chown(path, 65534, 65534)
    os.chown(tmp_path, 0, 0)
    with pytest.raises(UsageError) as err:
        resolve_settings(ns(profile="p"), env={}, config_path=path)
    assert "belongs to another user (uid 65534)" in err.value.message


def test_a_ca_bundle_others_can_write_is_refused(tmp_path: Path) -> None:
    ca = tmp_path / "ca.pem"
    ca.write_text("pem", encoding="utf-8")
    os.chmod(ca, 0o666)
    with pytest.raises(UsageError) as err:
        resolve_settings(ns(ca_bundle=str(ca)), env={})
    assert "CA bundle" in err.value.message


def test_a_profile_that_moves_the_endpoint_is_said(tmp_path: Path) -> None:
    ca = tmp_path / "ca.pem"
    ca.write_text("pem", encoding="utf-8")
    os.chmod(ca, 0o600)
    path = profile_file(tmp_path, f'arm_endpoint = "https://arm.contoso.example"\nca_bundle = "{ca}"')
    settings = resolve_settings(ns(profile="p"), env={}, config_path=path)
    assert settings.arm_endpoint == "https://arm.contoso.example"
    assert settings.notices == (
        "ARM endpoint https://arm.contoso.example (from profile 'p'), not AzureCloud's",
        f"private CA {ca} trusted (from profile 'p')",
    )
    # typed by the operator, it needs no warning
    assert resolve_settings(ns(arm_endpoint="https://x.example"), env={}).notices == ()


def test_a_config_file_that_is_not_utf8_is_a_usage_error(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_bytes(b'[profiles.p]\ntenant = "caf\xe9"\n')
    os.chmod(path, 0o600)
    with pytest.raises(UsageError) as err:
        resolve_settings(ns(profile="p"), env={}, config_path=path)
    assert "Cannot read the config file" in err.value.message


def test_a_config_file_nested_past_the_stack_is_a_usage_error(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text("x = " + "[" * 50_000 + "]" * 50_000 + "\n", encoding="utf-8")
    os.chmod(path, 0o600)
    with pytest.raises(UsageError) as err:
        resolve_settings(ns(profile="p"), env={}, config_path=path)
    assert "nested too deeply" in err.value.message or "Cannot read the config file" in err.value.message


def test_two_ways_of_signing_in_are_a_usage_error() -> None:
    with pytest.raises(UsageError) as err:
        resolve_settings(ns(device_code=True, auth="cli"), env={})
    assert "--device-code and --auth cli" in err.value.message
    assert resolve_settings(ns(device_code=True, auth="device-code"), env={}).auth == "device-code"


@pytest.mark.parametrize(
    "endpoint", ["http://127.0.0.1:8443", "https://", "https://user:pw@arm.example", "https://arm.example:99999"]
)
def test_an_endpoint_that_is_not_a_plain_https_url_is_refused(endpoint: str) -> None:
    with pytest.raises(UsageError) as err:
        resolve_settings(ns(arm_endpoint=endpoint), env={})
    assert "https://" in err.value.message


@pytest.mark.parametrize("token", ["tok\n", "  tok  ", "\ttok\r\n"])
def test_a_token_is_stripped_of_surrounding_whitespace(token: str) -> None:
    assert StaticTokenCredential(token).get_token("s").token == "tok"


@pytest.mark.parametrize("token", ["to\nk", "to k", "tok\x1b[2J", "tok\x00"])
def test_a_token_with_inner_spaces_or_controls_is_refused_unechoed(token: str) -> None:
    with pytest.raises(AuthenticationError) as err:
        StaticTokenCredential(token)
    assert "tok" not in err.value.message.replace("token", "")
