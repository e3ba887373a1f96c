"""Staff accounts: argon2id hashes and the scrypt upgrade, sessions, login throttling.

Unit tests on console.auth, then the same rules through the running console (real HTTP, a
second client machine played by the loopback address 127.0.0.2).
"""

from __future__ import annotations

import base64
import hashlib
import logging
import os
import re
import stat
from concurrent.futures import ThreadPoolExecutor

import pytest

from console.app import make_app
from console.auth import (
    Authenticator,
    LoginThrottle,
    SessionStore,
    add_account,
    hash_password,
    needs_rehash,
    parse_accounts,
    verify_password,
)
from opastin.config import Settings
from tests.aiohttp_server import serve
from tests.console.conftest import MINI_CORPUS, PASSWORD, USER, Client, Clock, console_settings

SECOND_MACHINE = "127.0.0.2"


def scrypt_hash(password: str, n: int = 2**14, r: int = 8, p: int = 1) -> str:
    """A hash as the console wrote them before argon2id (`scrypt$n$r$p$salt$hash`)."""
    salt = os.urandom(16)
    digest = hashlib.scrypt(
        password.encode(), salt=salt, n=n, r=r, p=p, dklen=32, maxmem=256 * 1024 * 1024
    )
    b64 = base64.b64encode
    return f"scrypt${n}${r}${p}${b64(salt).decode()}${b64(digest).decode()}"


@pytest.mark.real_password_hashes
def test_password_hashes_are_argon2id_with_current_parameters_and_a_salt():
    stored = hash_password("correct horse battery")
    assert stored.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert verify_password("correct horse battery", stored)
    assert not verify_password("correct horse batterY", stored)
    assert hash_password("same password") != hash_password("same password")
    assert not needs_rehash(stored)
    assert not verify_password("x", "$argon2id$nonsense")
    assert not verify_password("x", "scrypt$nonsense")
    assert not verify_password("x", "md5$1$2$3$4$5")


@pytest.mark.real_password_hashes
def test_scrypt_hashes_still_verify_and_need_a_rehash():
    legacy = scrypt_hash("an old staff password")
    assert verify_password("an old staff password", legacy)
    assert not verify_password("an old staff passworD", legacy)
    assert needs_rehash(legacy)
    weaker = "$argon2id$v=19$m=8192,t=1,p=1$" + hash_password("x").rsplit("$", 2)[1] + "$x"
    assert needs_rehash(weaker)


def test_scrypt_hashes_beyond_opensslls_default_memory_limit_verify():
    """n=2^17, r=8 needs 128 MiB: above the 128 MiB cap the console used to pass to OpenSSL."""
    legacy = scrypt_hash("an old staff password", n=2**17)
    assert verify_password("an old staff password", legacy)


def test_a_scrypt_account_is_rehashed_to_argon2id_at_its_next_successful_login(tmp_path):
    path = tmp_path / "accounts.txt"
    legacy = scrypt_hash("an old staff password")
    other = scrypt_hash("bobs old password")
    path.write_text(f"# staff\nalice:{legacy}\nbob:{other}\n")
    auth = Authenticator(path)
    assert not auth.check("alice", "a wrong password")
    assert f"alice:{legacy}" in path.read_text()  # a wrong password changes nothing
    assert auth.check("alice", "an old staff password")
    accounts = parse_accounts(path.read_text(), "f")
    assert accounts["alice"].startswith("$argon2id$") and accounts["bob"] == other
    assert path.read_text().startswith("# staff\n")  # comments and order kept
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert Authenticator(path).check("alice", "an old staff password")  # a fresh process too
    assert auth.check("alice", "an old staff password")


def test_an_inline_scrypt_account_still_logs_in_and_asks_to_be_replaced(tmp_path, caplog):
    inline = f"alice:{scrypt_hash('an old staff password')}"
    auth = Authenticator(tmp_path / "none.txt", inline)
    with caplog.at_level(logging.WARNING, logger="console.auth"):
        assert auth.check("alice", "an old staff password")
    assert "hash-password" in caplog.text and "alice" in caplog.text
    assert not (tmp_path / "none.txt").exists()


def test_accounts_file_parsing_reports_the_bad_line():
    good = hash_password("a long password")
    old = scrypt_hash("a long password")
    text = f"# staff\nalice:{good}\n\nbob:{good}, carol:{old},dave:{good}\n"
    accounts = parse_accounts(text, "f")
    assert sorted(accounts) == ["alice", "bob", "carol", "dave"]
    assert accounts["bob"] == good and accounts["carol"] == old  # argon2's own commas kept
    with pytest.raises(ValueError, match="f:2: expected name:\\$argon2id"):
        parse_accounts(f"alice:{good}\nbob:plaintext\n", "f")


def test_add_account_writes_a_private_file_and_replaces_a_name(tmp_path):
    path = tmp_path / "accounts.txt"
    add_account(path, "alice", "first password!")
    add_account(path, "bob", "bobs password!")
    add_account(path, "alice", "second password!")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [line.split(":")[0] for line in path.read_text().splitlines()] == ["bob", "alice"]
    auth = Authenticator(path)
    assert auth.check("alice", "second password!")
    assert not auth.check("alice", "first password!")
    assert not auth.check("nobody", "second password!")
    with pytest.raises(ValueError, match="at least 10"):
        add_account(path, "carol", "short")
    with pytest.raises(ValueError, match="user name"):
        add_account(path, "bad name", "long enough password")


def test_authenticator_sees_accounts_added_while_running(tmp_path):
    path = tmp_path / "accounts.txt"
    auth = Authenticator(path)
    assert not auth.check("alice", "first password!")
    add_account(path, "alice", "first password!")
    assert auth.check("alice", "first password!")


def test_sessions_expire_idle_and_absolute():
    clock = Clock()
    store = SessionStore(idle_seconds=60, max_seconds=300, clock=clock)
    sid = store.create("alice")
    clock.now += 59
    assert store.get(sid).user == "alice"
    clock.now += 61
    assert store.get(sid) is None
    sid = store.create("alice")
    seen = []
    for _ in range(7):
        clock.now += 50
        seen.append(store.get(sid) is not None)
    assert seen == [True] * 6 + [False]  # ends after 300 s although never idle for 60
    assert store.get(None) is None and store.get("unknown") is None
    sid = store.create("bob")
    store.end(sid)
    assert store.get(sid) is None


def test_sessions_end_when_the_password_changes_or_the_account_goes(tmp_path):
    path = tmp_path / "accounts.txt"
    add_account(path, "alice", "first password!")
    add_account(path, "bob", "bobs password!")
    auth = Authenticator(path)
    store = SessionStore(3600, 8 * 3600, Clock(), account_version=auth.version)
    alice, bob = store.create("alice"), store.create("bob")
    assert store.get(alice) and store.get(bob)
    add_account(path, "alice", "second password!")
    assert store.get(alice) is None
    assert store.get(bob) is not None  # other accounts are not affected
    alice = store.create("alice")
    assert store.get(alice) is not None  # a login after the change is valid
    path.write_text(path.read_text().replace("bob:", "# removed bob:"))
    assert store.get(bob) is None
    assert store.get(alice) is not None


def test_the_upgrade_to_argon2id_keeps_the_accounts_sessions(tmp_path):
    path = tmp_path / "accounts.txt"
    path.write_text(f"alice:{scrypt_hash('an old staff password')}\n")
    auth = Authenticator(path)
    store = SessionStore(3600, 8 * 3600, Clock(), account_version=auth.version)
    assert auth.check("alice", "an old staff password")  # the upgrade happens here...
    laptop = store.create("alice")
    assert auth.check("alice", "an old staff password")
    phone = store.create("alice")
    assert store.get(laptop) and store.get(phone)  # ...and ends no session: same password
    assert "$argon2id$" in path.read_text()


def test_throttle_delays_grow_per_address_after_the_free_attempts():
    clock = Clock()
    throttle = LoginThrottle(free=3, base=2, cap=60, forget=3600, clock=clock)
    waits = []
    for _ in range(8):
        assert throttle.wait("alice", "10.0.0.1") == 0
        throttle.failed("alice", "10.0.0.1")
        waits.append(throttle.wait("alice", "10.0.0.1"))
        clock.now += waits[-1]
    assert waits == [0, 0, 2, 4, 8, 16, 32, 60]
    throttle.failed("bob", "10.0.0.1")
    assert throttle.wait("bob", "10.0.0.1") == 60  # the address is slowed for every name
    assert throttle.retry_after("bob", "10.0.0.1") == 60
    clock.now += 3600
    assert throttle.wait("alice", "10.0.0.1") == 0  # forgotten an hour after the last one


def test_throttle_never_locks_the_name_against_another_address():
    clock = Clock()
    throttle = LoginThrottle(free=3, base=2, cap=900, clock=clock)
    for i in range(50):
        throttle.failed("alice", "10.0.0.1")
        throttle.failed("alice", f"10.1.0.{i}")  # a guesser with many addresses
    assert throttle.wait("alice", "10.0.0.1") == 900
    assert throttle.wait("alice", "10.1.0.7") == 900  # each guessing address is slowed
    assert throttle.wait("alice", "192.168.5.5") == 0  # staff elsewhere are still checked
    assert throttle.wait("bob", "10.1.0.7") == 0  # one failure from there: below the free ones
    throttle.succeeded("alice", "192.168.5.5")
    assert throttle.wait("alice", "10.1.0.7") == 0  # the right password starts afresh


def test_throttle_forgets_old_names_when_many():
    clock = Clock()
    throttle = LoginThrottle(free=3, forget=100, clock=clock)
    for i in range(10_001):
        throttle.failed(f"guess{i}", "10.0.0.1")
    clock.now += 101
    throttle.failed("alice", "10.0.0.2")
    assert list(throttle.by_name) == ["alice"]
    assert list(throttle.by_address) == ["10.0.0.2"]
    assert list(throttle.pairs) == [("alice", "10.0.0.2")]


def test_failed_logins_slow_the_address_but_the_right_password_works_elsewhere(console):
    for _ in range(5):
        assert console.client().login(password="wrong password!").status == 401
    refused = console.client().login()
    assert refused.status == 429  # even the right password, from the guessing address
    assert refused.headers["Retry-After"] == "1"
    assert console.client(source=SECOND_MACHINE).login().status == 303
    console.clock.now += 1
    assert console.client().login().status == 303


def test_delays_grow_with_each_further_failure(console):
    for _ in range(5):
        console.client().login(password="wrong password!")
    seen = []
    for _ in range(4):
        response = console.client().login(password="wrong password!")
        seen.append(int(response.headers.get("Retry-After", 0)))
        console.clock.now += seen[-1]
        assert console.client().login(password="wrong password!").status == 401
    assert seen == [1, 2, 4, 8]


def test_parallel_guesses_from_one_address_wait_like_sequential_ones(console):
    """The console's clock stands still here: only the five free attempts are checked."""
    with ThreadPoolExecutor(max_workers=10) as pool:
        statuses = list(
            pool.map(lambda _: console.client().login(password="wrong password!").status, range(10))
        )
    assert sorted(statuses) == [401] * 5 + [429] * 5
    assert console.client(source=SECOND_MACHINE).login().status == 303


def test_a_changed_password_or_removed_account_ends_sessions_in_the_console(console):
    accounts = console.settings.accounts_file
    add_account(accounts, "maija", "maijas first password")
    maija = console.client()
    assert maija.login("maija", "maijas first password").status == 303
    staff = console.logged_in()
    assert maija.get("/api/meta").status == 200
    add_account(accounts, "maija", "maijas second password")
    assert maija.get("/api/meta").status == 401
    assert maija.login("maija", "maijas second password").status == 303
    assert maija.get("/api/meta").status == 200
    accounts.write_text("")
    assert maija.get("/api/meta").status == 401
    assert staff.get("/api/meta").status == 200  # inline account, unchanged


def test_a_scrypt_account_logs_in_and_is_upgraded(console):
    accounts = console.settings.accounts_file
    accounts.write_text(f"maija:{scrypt_hash('maijas old password')}\n")
    client = console.client()
    assert client.login("maija", "maijas old password").status == 303
    assert re.match(r"maija:\$argon2id\$", accounts.read_text())
    assert client.get("/api/meta").json()["user"] == "maija"


def test_behind_a_trusted_proxy_the_forwarded_address_is_throttled(tmp_path):
    tracker = tmp_path / "tracker.db"
    for trusted, second_gets in (("127.0.0.1", 303), ("", 429)):
        settings = console_settings(tmp_path, tracker, trusted_proxies=trusted)
        app = make_app(settings, Settings(corpus_dir=MINI_CORPUS), clock=Clock())
        with serve(app) as url:

            def login(client_address: str, password: str = PASSWORD, url: str = url) -> int:
                client = Client(url)
                client.get("/login")
                forwarded = {"X-Forwarded-For": f"198.51.100.9, {client_address}"}
                token = client.cookies["opastin_console_login"]
                body = f"username={USER}&password={password}&csrf={token}".replace(" ", "+")
                headers = {"Content-Type": "application/x-www-form-urlencoded", **forwarded}
                return client.request("POST", "/login", body.encode(), headers).status

            for _ in range(5):
                assert login("203.0.113.5", "wrong password!") == 401
            assert login("203.0.113.5") == 429
            # Trusted: another visitor behind the proxy is someone else. Untrusted: the
            # header is ignored, as anyone could send it, and all share the proxy's address.
            assert login("203.0.113.6") == second_gets
