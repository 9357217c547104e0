"""The board's config_local.py and secrets.py from the flags, and where passwords come from."""

import pytest

from deploy import settings


@pytest.mark.parametrize("text, expected", [
    ("192.168.1.20", ("192.168.1.20", 1883)),
    ("192.168.1.20:1884", ("192.168.1.20", 1884)),
    ("mqtt.local:8883", ("mqtt.local", 8883)),
    ("[::1]:1883", ("::1", 1883)),
    ("[fe80::1]", ("fe80::1", 1883)),
])
def test_broker_parses(text, expected):
    assert settings.parse_broker(text) == expected


@pytest.mark.parametrize("text", ["", "host:", "host:0", "host:65536", "a:b", "::1", "a b:1"])
def test_bad_broker_is_refused(text):
    with pytest.raises(ValueError, match="--broker takes HOST or HOST:PORT"):
        settings.parse_broker(text)


@pytest.mark.parametrize("text", ["desk", "pico-e6614103", "lab_2.3"])
def test_good_ids(text):
    assert settings.check_device_id(text) == text


@pytest.mark.parametrize("text", ["", "a/b", "a+", "#", "a b", "x" * 65])
def test_bad_ids(text):
    with pytest.raises(ValueError, match="--id"):
        settings.check_device_id(text)


def _values(text, secrets_text=None):
    """What a board's config would hold: config_local executed, its secrets import resolved."""
    scope = {}
    if secrets_text is not None:
        text = text.replace("from secrets import *", "exec(_secrets)")
        scope["_secrets"] = secrets_text
    exec(text, scope)
    return {k: v for k, v in scope.items() if k.isupper()}


def test_config_local_with_everything():
    secrets = settings.secrets_text("pa'ss\"word", "mq")
    text = settings.config_local_text("192.168.1.20", 1884, "Home \"Net\"", "desk", "node1", "DE",
                                      with_secrets=True)
    assert _values(text, secrets) == {
        "BROKER_HOST": "192.168.1.20", "BROKER_PORT": 1884, "WIFI_SSID": 'Home "Net"',
        "WIFI_COUNTRY": "DE", "BROKER_USER": "node1", "DEVICE_ID": "desk",
        "WIFI_PASSWORD": "pa'ss\"word", "BROKER_PASSWORD": "mq"}
    assert "pa'ss" not in text and "mq'" not in text   # passwords only in secrets.py


def test_config_local_minimal_has_no_secrets_import():
    text = settings.config_local_text("127.0.0.1", 1883)
    assert _values(text) == {"BROKER_HOST": "127.0.0.1", "BROKER_PORT": 1883}
    assert "secrets" not in text.replace("Passwords", "")
    assert settings.secrets_text(None, None) is None


def test_password_from_the_environment_never_asks():
    def prompt(_):
        raise AssertionError("asked although the environment has it")
    assert settings.password("PW", "Wi-Fi", environ={"PW": "s3cret"}, prompt=prompt) == "s3cret"
    assert settings.password("PW", "Wi-Fi", environ={"PW": ""}, prompt=prompt) is None


def test_password_asked_on_a_terminal():
    asked = []
    value = settings.password("PW", "Wi-Fi (home)", environ={}, interactive=True,
                              prompt=lambda text: asked.append(text) or "typed")
    assert value == "typed" and asked == ["Wi-Fi (home) password (empty for none): "]


def test_password_without_a_terminal_names_the_variable():
    with pytest.raises(ValueError, match="set PICO_WIFI_PASSWORD"):
        settings.password("PICO_WIFI_PASSWORD", "Wi-Fi", environ={}, interactive=False)


def test_other_settings_with_set():
    pairs = [settings.parse_setting("WDT_TIMEOUT_MS=None"), settings.parse_setting("HEARTBEAT_S=2")]
    assert _values(settings.config_local_text("h", 1, extra=pairs)) == {
        "BROKER_HOST": "h", "BROKER_PORT": 1, "WDT_TIMEOUT_MS": None, "HEARTBEAT_S": 2}


@pytest.mark.parametrize("text", ["WIFI_PASSWORD=x", "BROKER_PASSWORD='y'"])
def test_set_never_takes_a_password(text):
    with pytest.raises(ValueError, match="passwords come from PICO_.*_PASSWORD or a prompt"):
        settings.parse_setting(text)
